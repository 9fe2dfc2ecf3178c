/**
 * `vibe cache add|ls|rm`: the content-addressed store of layer sources
 * (`.vibe/cache/store`, see src/layers/cache_store.ts). Runs in-process: the
 * store is files plus settings rows, and no vibe changes when it does
 * (vibes keep the digest they resolved at spawn).
 */
import { formatAge, printJson, table } from "./output.ts";
import { Project } from "../project/project.ts";

function mib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${bytes} B` : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

async function withProject<T>(cwd: string, fn: (p: Project) => T | Promise<T>): Promise<T> {
  const project = await Project.open(cwd);
  try {
    return await fn(project);
  } finally {
    project.close();
  }
}

export async function runCacheAdd(
  cwd: string,
  path: string,
  opts: { name?: string; json?: boolean },
): Promise<void> {
  const { addToCache } = await import("../layers/cache_store.ts");
  const abs = path.startsWith("/") ? path : `${cwd}/${path}`;
  const r = await withProject(cwd, (p) => addToCache(p.meta, p.vibeDir, abs, opts.name));
  if (opts.json) {
    printJson(r);
    return;
  }
  console.log(
    `Cached "${r.name}" = ${r.digest.slice(0, 12)}: ${r.files} files, ${mib(r.bytes)}` +
      (r.reused ? " (already stored: nothing new written)" : ` (${r.method})`) +
      ` in ${Math.round(r.ms)} ms.`,
  );
  if (r.replaced) {
    console.log(
      `"${r.name}" pointed to ${r.replaced.slice(0, 12)} before; ` +
        `existing vibes keep that content, new vibes get this one.`,
    );
  }
  console.log(`Use it in .vibe/config.json: {"path": "<path>", "source": "cache:${r.name}"}`);
}

export async function runCacheLs(cwd: string, opts: { json?: boolean }): Promise<void> {
  const { listCacheEntries } = await import("../layers/cache_store.ts");
  const rows = await withProject(cwd, (p) =>
    listCacheEntries(p.meta).map((e) => ({
      ...e,
      usedBy: p.meta.vibesUsingOrigin(`cache:${e.digest}`),
    })));
  if (opts.json) {
    printJson(rows);
    return;
  }
  if (rows.length === 0) {
    console.log(`The cache is empty. Fill it with "vibe cache add <dir> [--name <name>]".`);
    return;
  }
  console.log(table([
    ["NAME", "DIGEST", "FILES", "SIZE", "AGE", "USED BY"],
    ...rows.map((r) => [
      r.name,
      r.digest.slice(0, 12),
      String(r.files),
      mib(r.bytes),
      formatAge(Date.now() - r.addedMs),
      r.usedBy.length ? r.usedBy.join(",") : "-",
    ]),
  ]));
}

export async function runCacheRm(
  cwd: string,
  name: string,
  opts: { json?: boolean },
): Promise<void> {
  const { removeCacheEntry } = await import("../layers/cache_store.ts");
  const r = await withProject(cwd, (p) => removeCacheEntry(p.meta, p.vibeDir, name));
  if (opts.json) {
    printJson(r);
    return;
  }
  console.log(
    r.removedData
      ? `Removed cache entry "${name}" and its content ${r.digest.slice(0, 12)}.`
      : `Removed the name "${name}"; its content ${r.digest.slice(0, 12)} stays while ${
        r.usedBy.length ? `vibes ${r.usedBy.join(", ")} use it` : "another name points to it"
      }.`,
  );
}
