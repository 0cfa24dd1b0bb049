/// <reference types="vitest" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The API (`funnel api serve`, or `funnel dev`) serves the built app; during development Vite
// serves it and proxies every API path to the API, so the browser still sees one origin.
const api = process.env.FUNNEL_API_URL ?? "http://127.0.0.1:8000";
const proxied = [
  "/auth", "/users", "/leads", "/conversations", "/messages", "/ctas", "/templates",
  "/dashboard", "/analytics", "/knowledge", "/settings", "/organisations", "/debug",
  "/healthz", "/readyz",
];

export default defineConfig({
  // Served under /app/ by the API, so no page path can collide with a REST prefix
  // (/dashboard, /settings, /leads are API routes).
  base: "/app/",
  plugins: [react()],
  server: {
    proxy: {
      "/graphql": { target: api, ws: true, changeOrigin: true },
      ...Object.fromEntries(proxied.map((p) => [p, { target: api, changeOrigin: true }])),
    },
  },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 900 },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
