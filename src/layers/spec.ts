/**
 * The `layers` section of `.vibe/config.json`: untracked paths (`.env`,
 * `node_modules`, build outputs) injected into every vibe at spawn.
 *
 *   "layers": [
 *     { "path": "node_modules", "mode": "shared-readonly" },
 *     { "path": ".env" },                                    // copy-on-write from the root
 *     { "path": "web/node_modules", "source": "cache:web-deps" },
 *     { "path": "dist", "mode": "private" }
 *   ]
 *
 * Everything checkable without the repository is checked here, as a whole,
 * with messages naming the file, the key, the problem and the fix. What
 * needs the base tree or the disk (tracked paths, missing sources) is
 * checked at spawn (`resolve.ts`).
 */
import { VibeError } from "../errors.ts";

export const LAYER_MODES = ["copy-on-write", "shared-readonly", "private"] as const;
export type LayerMode = (typeof LAYER_MODES)[number];

/** One configured layer. */
export interface LayerSpec {
  /** Relative, normalized, "/"-separated; never empty, ".git" or ".vibe". */
  path: string;
  mode: LayerMode;
  /** "root" or "cache:<name>" (private layers: "root", unused). */
  source: string;
  /** Whitelisted: what a vibe changes under it shows in status, diff, promote and reports. */
  report: boolean;
}

const KEYS = ["path", "mode", "source", "report"];
const CACHE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function usage(file: string, key: string, problem: string, fix: string): VibeError {
  return new VibeError("USAGE", `${file}: ${key} ${problem} (${fix})`);
}

/** True when `name` may name a cache entry (a path component and a shell word). */
export function validCacheName(name: string): boolean {
  return CACHE_NAME_RE.test(name) && !name.includes("..") && !name.endsWith(".");
}

/** Checks a layer path; returns it normalized ("./a//b/" → "a/b"). */
function checkPath(file: string, key: string, v: unknown): string {
  if (typeof v !== "string" || v.trim() === "") {
    throw usage(
      file,
      key,
      "must be a non-empty string",
      'a path relative to the project root, e.g. "node_modules"',
    );
  }
  if (v.startsWith("/") || /^[A-Za-z]:[\\/]/.test(v)) {
    throw usage(
      file,
      key,
      `is absolute: ${JSON.stringify(v)}`,
      "layers live inside the project: use a path relative to its root",
    );
  }
  if (v.includes("\\") || v.includes("\0")) {
    throw usage(
      file,
      key,
      `contains "\\\\" or NUL: ${JSON.stringify(v)}`,
      'separate components with "/"',
    );
  }
  const parts = v.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw usage(
      file,
      key,
      `leaves the project through "..": ${JSON.stringify(v)}`,
      "use a path inside the project",
    );
  }
  if (parts.length === 0) {
    throw usage(file, key, `names the project root itself`, "name a path below it");
  }
  const first = parts[0]!;
  if (first === ".git" || first === ".vibe") {
    throw usage(
      file,
      key,
      `is inside ${first}/: ${JSON.stringify(v)}`,
      `${first}/ belongs to ${first === ".git" ? "git" : "vibe"}; choose another path`,
    );
  }
  for (const p of parts) {
    if (new TextEncoder().encode(p).length > 255) {
      throw usage(file, key, `has a component longer than 255 bytes`, "shorten it");
    }
  }
  return parts.join("/");
}

/**
 * Checks the `layers` section (`undefined`/`null`: no layers). `file` is the
 * configuration file's path, for messages.
 */
export function parseLayers(v: unknown, file: string): LayerSpec[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    throw usage(
      file,
      "layers",
      "must be an array",
      'e.g. [{"path": "node_modules", "mode": "shared-readonly"}, {"path": ".env"}]',
    );
  }
  const out: LayerSpec[] = [];
  v.forEach((item, i) => {
    const at = `layers[${i}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw usage(
        file,
        at,
        "must be an object",
        'e.g. {"path": "node_modules", "mode": "copy-on-write"}',
      );
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!KEYS.includes(k)) {
        throw usage(file, `${at}.${k}`, "is not a layer setting", `known: ${KEYS.join(", ")}`);
      }
    }
    const path = checkPath(file, `${at}.path`, o["path"]);
    const modeRaw = o["mode"] ?? "copy-on-write";
    if (typeof modeRaw !== "string" || !(LAYER_MODES as readonly string[]).includes(modeRaw)) {
      throw usage(
        file,
        `${at}.mode`,
        `is not a layer mode: ${JSON.stringify(modeRaw)}`,
        `use one of ${LAYER_MODES.map((m) => `"${m}"`).join(", ")}; the default is "copy-on-write"`,
      );
    }
    const mode = modeRaw as LayerMode;
    const sourceRaw = o["source"] ?? "root";
    if (typeof sourceRaw !== "string") {
      throw usage(file, `${at}.source`, "must be a string", '"root" or "cache:<name>"');
    }
    if (sourceRaw !== "root") {
      const name = sourceRaw.startsWith("cache:") ? sourceRaw.slice(6) : null;
      if (name === null) {
        throw usage(
          file,
          `${at}.source`,
          `is not a source: ${JSON.stringify(sourceRaw)}`,
          'use "root" (the project root\'s copy, the default) or "cache:<name>" (see "vibe cache ls")',
        );
      }
      if (!validCacheName(name)) {
        throw usage(
          file,
          `${at}.source`,
          `names no valid cache entry: ${JSON.stringify(name)}`,
          'cache names are 1-64 letters, digits, ".", "_" or "-" (see "vibe cache ls")',
        );
      }
      if (mode === "private") {
        throw usage(
          file,
          `${at}.source`,
          "is set on a private layer",
          'private layers start empty in every vibe; remove "source" or use "copy-on-write"',
        );
      }
    }
    const report = o["report"] ?? false;
    if (typeof report !== "boolean") {
      throw usage(
        file,
        `${at}.report`,
        "must be true or false",
        "true shows the vibe's changes under it in diff and promote",
      );
    }
    out.push({ path, mode, source: sourceRaw, report });
  });
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = out[j]!.path;
      const b = out[i]!.path;
      if (a === b) {
        throw usage(
          file,
          `layers[${i}].path`,
          `repeats layers[${j}] ("${b}")`,
          "list each path once",
        );
      }
      if (b.startsWith(`${a}/`) || a.startsWith(`${b}/`)) {
        const [outer, inner] = b.startsWith(`${a}/`) ? [j, i] : [i, j];
        throw usage(
          file,
          `layers[${inner}].path`,
          `("${out[inner]!.path}") lies inside layers[${outer}] ("${out[outer]!.path}")`,
          "layers cannot nest: keep one of them",
        );
      }
    }
  }
  return out;
}
