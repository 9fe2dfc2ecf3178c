/**
 * The project configuration, `.vibe/config.json`: optional, validated as a
 * whole, every error naming the file, the key and the fix. Sections:
 *
 *   {
 *     "policy": { ... },                         // vibe exec decisions (src/exec/policy.ts)
 *     "quota": { "bytes": "2GiB", "files": 5000 }, // default per-vibe limits
 *     "layers": [ { "path": "node_modules", "mode": "shared-readonly" } ]
 *                                                  // untracked paths in every vibe (src/layers/spec.ts)
 *   }
 *
 * Sections are checked by their owners; this module reads the file, checks
 * the top level, the quota and the layers, and hands the policy section on
 * as it is.
 */
import { VibeError } from "../errors.ts";
import type { Quota } from "../types.ts";
import { type LayerSpec, parseLayers } from "../layers/spec.ts";

export const CONFIG_FILE = "config.json";
const SECTIONS = ["policy", "quota", "layers"] as const;

export interface ProjectConfig {
  /** Path of the file, for messages. */
  path: string;
  /** The raw `policy` section (validated by the exec policy). */
  policy: unknown;
  /** Default quota of every vibe (null fields: unlimited). */
  quota: Quota;
  /** Untracked paths injected into every new vibe (empty: none). */
  layers: LayerSpec[];
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * A byte count from a number or a size like "512MiB", "2G", "1.5GB" (K, M,
 * G, T are binary; KB, MB … decimal; KiB, MiB … binary). Null when invalid.
 */
export function parseSize(v: unknown): number | null {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v !== "string") return null;
  const m = v.trim().match(/^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/);
  if (!m) return null;
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : null;
}

function usage(path: string, key: string, problem: string, fix: string): VibeError {
  return new VibeError("USAGE", `${path}: ${key} ${problem} (${fix})`);
}

/** Checks a quota object (`where` names it in messages). */
export function parseQuota(v: unknown, path: string, where: string): Quota {
  if (v === undefined || v === null) return { bytes: null, files: null };
  if (typeof v !== "object" || Array.isArray(v)) {
    throw usage(path, where, "must be an object", 'e.g. {"bytes": "2GiB", "files": 5000}');
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== "bytes" && k !== "files") {
      throw usage(path, `${where}.${k}`, "is not a quota setting", 'use "bytes" and "files"');
    }
  }
  let bytes: number | null = null;
  let files: number | null = null;
  if (o["bytes"] !== undefined && o["bytes"] !== null) {
    bytes = parseSize(o["bytes"]);
    if (bytes === null) {
      throw usage(
        path,
        `${where}.bytes`,
        `is not a size: ${JSON.stringify(o["bytes"])}`,
        'use a byte count or a size such as "500MiB" or "2G"',
      );
    }
  }
  if (o["files"] !== undefined && o["files"] !== null) {
    const f = o["files"];
    if (typeof f !== "number" || !Number.isSafeInteger(f) || f < 0) {
      throw usage(
        path,
        `${where}.files`,
        `is not a count: ${JSON.stringify(f)}`,
        "use an integer ≥ 0",
      );
    }
    files = f;
  }
  return { bytes, files };
}

/** Reads and checks `<vibeDir>/config.json`; a missing file is the empty config. */
export function loadConfig(vibeDir: string): ProjectConfig {
  const path = `${vibeDir}/${CONFIG_FILE}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { path, policy: undefined, quota: { bytes: null, files: null }, layers: [] };
    }
    throw new VibeError("EIO", `Cannot read "${path}": ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new VibeError(
      "USAGE",
      `${path} is not valid JSON: ${
        (e as Error).message
      } (fix the file, or remove it to use defaults)`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw usage(
      path,
      "the top level",
      "must be an object",
      `with the sections ${SECTIONS.join(", ")}`,
    );
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(SECTIONS as readonly string[]).includes(k)) {
      throw usage(
        path,
        `"${k}"`,
        "is not a configuration section",
        `known: ${SECTIONS.join(", ")}`,
      );
    }
  }
  return {
    path,
    policy: o["policy"],
    quota: parseQuota(o["quota"], path, "quota"),
    layers: parseLayers(o["layers"], path),
  };
}
