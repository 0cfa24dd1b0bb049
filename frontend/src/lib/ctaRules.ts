// What the API refuses in a CTA, checked in the form first: an https URL, a button text of at
// most 20 characters, a send-link CTA needs a URL, a URL needs a button text.

export interface CtaDraft {
  type: string;
  name: string;
  description: string;
  url: string;
  buttonText: string;
}

export const BUTTON_TEXT_MAX = 20;

export function ctaProblems(d: CtaDraft): string[] {
  const problems: string[] = [];
  if (!d.name.trim()) problems.push("A name is required.");
  if (d.url && !/^https:\/\/\S+$/.test(d.url)) problems.push("The URL must start with https://.");
  if (d.type === "SEND_LINK" && !d.url) problems.push("A send-link CTA needs a URL.");
  if (d.url && !d.buttonText.trim()) problems.push("A URL needs a button text.");
  if (d.buttonText.length > BUTTON_TEXT_MAX) problems.push(`The button text is at most ${BUTTON_TEXT_MAX} characters.`);
  return problems;
}
