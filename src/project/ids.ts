/** Vibe ids: usable as a git ref component, a path component and a shell word. */
import { VibeError } from "../errors.ts";

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws USAGE with the rule and a fix when `id` is not a valid vibe id. */
export function validateVibeId(id: string): void {
  const bad = (why: string) =>
    new VibeError(
      "USAGE",
      `Invalid vibe id "${id}": ${why} (use 1-64 letters, digits, ".", "_" or "-", ` +
        `starting with a letter or digit, e.g. "agent-1")`,
    );
  if (!ID_RE.test(id)) {
    if (id.length === 0) throw bad("it is empty");
    if (id.length > 64) throw bad("it is longer than 64 characters");
    throw bad("it contains characters that are not allowed");
  }
  if (id.includes("..")) throw bad(`it contains ".."`);
  if (id.endsWith(".lock")) throw bad(`it ends with ".lock"`);
  if (id.endsWith(".")) throw bad(`it ends with "."`);
}
