/**
 * Validation of directory entry names, shared by every `Vfs` implementation.
 *
 * Hot path: `validateName` runs on every call that takes a name, so it scans
 * the string once without allocating (no TextEncoder); the UTF-8 length is
 * counted only when a non-ASCII character is present.
 */
import { VibeError } from "../errors.ts";

/** Longest name in bytes of UTF-8 (POSIX NAME_MAX on Linux and macOS). */
export const NAME_MAX = 255;

/** Longest quoted name in an error message; longer names are cut with "…". */
const MESSAGE_NAME_MAX = 64;

/**
 * Throws unless `name` is a valid entry name: EINVAL when it is empty, `.`,
 * `..`, or contains `/` or NUL; ENAMETOOLONG when its UTF-8 encoding exceeds
 * `NAME_MAX` bytes. A lone surrogate counts as 3 bytes (U+FFFD, as
 * TextEncoder encodes it).
 */
export function validateName(name: string): void {
  const n = name.length;
  if (n === 0) throw invalid(name, "names cannot be empty");
  // UTF-8 never takes fewer bytes than UTF-16 code units, so this is exact.
  if (n > NAME_MAX) throw tooLong(name);
  if (n <= 2 && (name === "." || name === "..")) {
    throw invalid(name, `"." and ".." are reserved`);
  }
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f) throw invalid(name, `names cannot contain "/"`);
    if (c === 0) throw invalid(name, "names cannot contain NUL");
    if (c > 0x7f) ascii = false;
  }
  if (!ascii && n * 3 > NAME_MAX && utf8Length(name) > NAME_MAX) throw tooLong(name);
}

/** Number of bytes `s` takes in UTF-8, counted without encoding it. */
export function utf8Length(s: string): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function invalid(name: string, detail: string): VibeError {
  return new VibeError("EINVAL", `Invalid name ${quote(name)}: ${detail}`);
}

function tooLong(name: string): VibeError {
  return new VibeError(
    "ENAMETOOLONG",
    `Invalid name ${quote(name)}: names are limited to ${NAME_MAX} bytes of UTF-8`,
  );
}

/** JSON-quotes `name` (so NUL shows as \u0000), cut to a readable length. */
function quote(name: string): string {
  return name.length > MESSAGE_NAME_MAX
    ? JSON.stringify(name.slice(0, MESSAGE_NAME_MAX)).slice(0, -1) + `…"`
    : JSON.stringify(name);
}
