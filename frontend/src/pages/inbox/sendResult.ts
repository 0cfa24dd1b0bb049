// What to tell the operator when sendMessage did not queue the message.
import type { SendMessageMutation as SendData } from "../../gql/generated";

export function sendFailure(result: SendData["sendMessage"]): string | null {
  switch (result.__typename) {
    case "MessageQueued":
      return null;
    case "WindowClosed":
      return `The 24-hour window is closed: ${result.message}`;
    case "OptedOut":
      return `Not sent: ${result.message}`;
    case "ValidationProblem":
      return result.message;
    default:
      return "message" in result ? String(result.message) : "The message was not sent.";
  }
}
