import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { Provider } from "urql";
import App from "./App";
import { ToastProvider } from "./components/toast";
import { onTokens } from "./lib/auth";
import { createClient, resetSocket } from "./lib/client";
import { SessionProvider } from "./lib/session";
import "./styles.css";

function Root() {
  // A new client (and socket) per signed-in user: nothing cached crosses a sign-out.
  const [client, setClient] = useState(createClient);
  useEffect(
    () =>
      onTokens((tokens) => {
        if (!tokens) {
          resetSocket();
          setClient(createClient());
        }
      }),
    [],
  );
  return (
    <Provider value={client}>
      <ToastProvider>
        <SessionProvider>
          <App />
        </SessionProvider>
      </ToastProvider>
    </Provider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
