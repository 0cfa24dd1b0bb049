/** A byte count for people: 512 B, 1.2 KB, 3.4 MB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const KNOWLEDGE_MAX_BYTES = 20 * 1024 * 1024;
export const KNOWLEDGE_TYPES = [".pdf", ".md", ".markdown", ".txt"];

/** Why a file cannot be uploaded to the knowledge base, or null. */
export function knowledgeFileProblem(name: string, size: number): string | null {
  const lower = name.toLowerCase();
  if (!KNOWLEDGE_TYPES.some((ext) => lower.endsWith(ext))) return "Upload a PDF, Markdown or text file.";
  if (size === 0) return "The file is empty.";
  if (size > KNOWLEDGE_MAX_BYTES) return `The file is ${bytes(size)}; at most ${bytes(KNOWLEDGE_MAX_BYTES)}.`;
  return null;
}
