/**
 * The vibe daemon: one process per project serves every mounted vibe (100
 * vibes = one runtime). It owns the workspaces of mounted vibes, answers the
 * control socket, and on start remounts the vibes that were mounted when it
 * last stopped (their mount paths are recorded in the metadata).
 *
 * State that must survive the daemon lives in the metadata and the delta
 * store; the daemon holds only caches, so a SIGKILL loses no acknowledged
 * write (each Vfs write reaches the delta file before it is answered).
 */
import { VibeError } from "../errors.ts";
import { Project } from "../project/project.ts";
import { type DaemonInfo, INFO_FILE, serveConnection, socketPathFor } from "./control.ts";
import { pathExists as exists } from "./mounts.ts";
import { type OpHost, OPS } from "./ops.ts";
import type { FuseMount } from "../fuse/mod.ts";
import type { NfsServer } from "../nfs/mod.ts";
import { VERSION } from "../version.ts";

export const DEFAULT_MOUNT_ROOT = "/tmp/vibe";

/** What the daemon needs of a mount, FUSE or NFS. */
interface MountHandle {
  unmount(): Promise<void>;
  stats(): unknown;
  invalidateInode(ino: number): Promise<void>;
  invalidateEntry(parent: number, name: string): Promise<void>;
  /** Resolves when the mount went away (for NFS: only when we unmount it). */
  readonly closed: Promise<void>;
}

export type Transport = "fuse" | "nfs";

interface Mounted {
  id: string;
  path: string;
  transport: Transport;
  mount: MountHandle;
  mountedMs: number;
  /** The mount point did not exist before: it is removed (when empty) at unmount. */
  madeDir: boolean;
}

/** Which transport `auto` (or a recorded one) means on this machine, or why none works. */
export async function resolveTransport(requested: string | null | undefined): Promise<Transport> {
  const { fuseUnavailableReason } = await import("./mounts.ts");
  const { nfsClientUnavailableReason } = await import("./nfs_mount.ts");
  if (requested === "fuse" || requested === "nfs") return requested;
  if (requested && requested !== "auto") {
    throw new VibeError("USAGE", `Unknown transport "${requested}" (use fuse, nfs or auto)`);
  }
  const fuse = fuseUnavailableReason();
  if (fuse === null) return "fuse";
  const nfs = nfsClientUnavailableReason();
  if (nfs === null) return "nfs";
  throw new VibeError(
    "ENOSYS",
    `Cannot mount here: FUSE: ${fuse}; NFS: ${nfs} ` +
      `(vibe spawn --no-mount works without either, and "vibe serve <id> --nfs" exports a vibe)`,
  );
}

export class Daemon implements OpHost {
  readonly project: Project;
  readonly socket: string;
  #listener: Deno.Listener | null = null;
  #mounts = new Map<string, Mounted>();
  #nfs = new Map<string, NfsServer>();
  #mounting = new Map<string, Promise<Mounted>>();
  #stopping: Promise<void> | null = null;
  #startedMs = Date.now();
  #log: (msg: string) => void;
  #done: { promise: Promise<void>; resolve: () => void };

  private constructor(project: Project, log: (msg: string) => void) {
    this.project = project;
    this.socket = socketPathFor(project.vibeDir);
    this.#log = log;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#done = { promise, resolve };
  }

  /** Opens the project, listens on the control socket and remounts recorded vibes. */
  static async start(cwd: string, log: (msg: string) => void): Promise<Daemon> {
    const project = await Project.open(cwd);
    const d = new Daemon(project, log);
    await d.#listen();
    log(`daemon ${Deno.pid} serving ${project.repo.workTree} on ${d.socket}`);
    await d.#remountRecorded();
    d.#watchIdle();
    return d;
  }

  /**
   * Stops the daemon when nothing needs it: its project was deleted, or no
   * vibe has been mounted for `VIBE_DAEMON_IDLE_MS` (default 10 min). The next
   * spawn or mount starts a new one.
   */
  #watchIdle(): void {
    const idleMs = Number(Deno.env.get("VIBE_DAEMON_IDLE_MS") ?? 600_000);
    let idleSince = Date.now();
    const timer = setInterval(() => {
      let gone = false;
      try {
        Deno.statSync(`${this.project.vibeDir}/metadata.db`);
      } catch {
        gone = true;
      }
      if (this.#mounts.size > 0 || this.#mounting.size > 0 || this.#nfs.size > 0) {
        idleSince = Date.now();
      }
      if (gone || Date.now() - idleSince > idleMs) {
        clearInterval(timer);
        this.#log(gone ? "the project's .vibe is gone: stopping" : "idle: stopping");
        this.stop();
      }
    }, Math.min(5000, idleMs));
    Deno.unrefTimer(timer);
  }

  get done(): Promise<void> {
    return this.#done.promise;
  }

  async #listen(): Promise<void> {
    // A socket file nobody answers on is left over from a dead daemon.
    try {
      const c = await Deno.connect({ transport: "unix", path: this.socket });
      c.close();
      throw new VibeError("EBUSY", `A vibe daemon already serves this project (${this.socket})`);
    } catch (e) {
      if (e instanceof VibeError) throw e;
      await Deno.remove(this.socket).catch(() => {});
    }
    this.#listener = Deno.listen({ transport: "unix", path: this.socket });
    Deno.chmodSync(this.socket, 0o600);
    const info: DaemonInfo = {
      pid: Deno.pid,
      socket: this.socket,
      startedMs: this.#startedMs,
      version: VERSION,
    };
    Deno.writeTextFileSync(`${this.project.vibeDir}/${INFO_FILE}`, JSON.stringify(info));
    (async () => {
      for await (const conn of this.#listener!) {
        serveConnection(conn, (m, p) => this.#handle(m, p)).catch(() => {});
      }
    })().catch(() => {});
  }

  async #remountRecorded(): Promise<void> {
    for (const v of this.project.meta.listVibes()) {
      if (!v.mountPath) continue;
      try {
        await this.mount(v.id, v.mountPath, v.transport ?? undefined);
        this.#log(`remounted ${v.id} at ${v.mountPath}`);
      } catch (e) {
        this.#log(`cannot remount ${v.id} at ${v.mountPath}: ${(e as Error).message}`);
      }
    }
  }

  async #handle(method: string, params: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case "ping":
        return { pid: Deno.pid };
      case "info":
        return this.info();
      case "mount": {
        const id = String(params["id"]);
        const m = await this.mount(
          id,
          typeof params["path"] === "string" ? params["path"] : undefined,
          typeof params["transport"] === "string" ? params["transport"] : undefined,
        );
        return { id, path: m.path, transport: m.transport };
      }
      case "unmount":
        await this.unmount(String(params["id"]));
        return { id: params["id"] };
      case "serve-nfs":
        return await this.serveNfs(
          String(params["id"]),
          typeof params["port"] === "number" ? params["port"] : 0,
          typeof params["hostname"] === "string" ? params["hostname"] : "127.0.0.1",
        );
      case "unserve-nfs":
        if (this.#mounts.get(String(params["id"]))?.transport === "nfs") {
          throw new VibeError(
            "EBUSY",
            `Cannot stop serving "${
              params["id"]
            }" over NFS: it is mounted over NFS here (use "vibe unmount ${params["id"]}")`,
          );
        }
        await this.unserveNfs(String(params["id"]));
        return { id: params["id"] };
      case "stop":
        queueMicrotask(() => this.stop());
        return { stopping: true };
    }
    const op = OPS[method];
    if (!op) throw new VibeError("USAGE", `Unknown daemon request "${method}"`);
    return await op(this.project, params, this);
  }

  info() {
    return {
      pid: Deno.pid,
      startedMs: this.#startedMs,
      uptimeMs: Date.now() - this.#startedMs,
      workTree: this.project.repo.workTree,
      socket: this.socket,
      version: VERSION,
      rssBytes: Deno.memoryUsage().rss,
      nfs: [...this.#nfs.entries()].map(([id, s]) => nfsInfo(id, s)),
      mounts: [...this.#mounts.values()].map((m) => ({
        id: m.id,
        path: m.path,
        transport: m.transport,
        mountedMs: m.mountedMs,
        stats: m.mount.stats(),
      })),
    };
  }

  /** Mounts a vibe (idempotent); resolves when the mount answers through the kernel. */
  async mount(id: string, path?: string, transport?: string): Promise<Mounted> {
    const existing = this.#mounts.get(id);
    if (existing) return existing;
    const pending = this.#mounting.get(id);
    if (pending) return await pending;
    const root = Deno.env.get("VIBE_MOUNT_ROOT") || DEFAULT_MOUNT_ROOT;
    const t = await resolveTransport(transport);
    const target = path ?? `${root}/${id}`;
    const p = t === "nfs" ? this.#doMountNfs(id, target) : this.#doMount(id, target);
    this.#mounting.set(id, p);
    try {
      return await p;
    } finally {
      this.#mounting.delete(id);
    }
  }

  /**
   * Checks the vibe exists and `path` is free to mount on (a stale mount of
   * a dead daemon is detached first). True when `path` does not exist yet:
   * the mount creates it and unmount removes it again.
   */
  async #freeMountPoint(id: string, path: string): Promise<boolean> {
    const { clearStaleMount, isMounted } = await import("./mounts.ts");
    this.project.vibe(id);
    await clearStaleMount(path);
    if (isMounted(path)) {
      throw new VibeError(
        "EBUSY",
        `Cannot mount "${id}" at "${path}": something else is mounted there (unmount it or pick --mount <path>)`,
      );
    }
    return !exists(path);
  }

  /**
   * Serves the vibe over NFS on 127.0.0.1 (privileged source ports only)
   * and mounts it with the kernel's NFS client (src/service/nfs_mount.ts).
   */
  async #doMountNfs(id: string, path: string): Promise<Mounted> {
    const { mountNfs, unmountNfs, NFS_HOST } = await import("./nfs_mount.ts");
    const madeDir = await this.#freeMountPoint(id, path);
    const info = await this.serveNfs(id, 0, NFS_HOST, true);
    try {
      await mountNfs(info.exportPath, info.port, path);
    } catch (e) {
      await this.unserveNfs(id);
      throw e;
    }
    let closed!: () => void;
    const handle: MountHandle = {
      unmount: async () => {
        await unmountNfs(path);
        closed();
      },
      stats: () => ({ transport: "nfs", port: info.port }),
      // NFSv3 cannot push invalidations: clients revalidate after actimeo (1 s).
      invalidateInode: () => Promise.resolve(),
      invalidateEntry: () => Promise.resolve(),
      closed: new Promise<void>((r) => (closed = r)),
    };
    const m: Mounted = {
      id,
      path,
      transport: "nfs",
      mount: handle,
      mountedMs: Date.now(),
      madeDir,
    };
    this.#mounts.set(id, m);
    this.project.meta.updateVibe(id, { mountPath: path, transport: "nfs" });
    return m;
  }

  async #doMount(id: string, path: string): Promise<Mounted> {
    const { mountFuse } = await import("../fuse/mod.ts");
    const madeDir = await this.#freeMountPoint(id, path);
    const ws = this.project.workspace(id);
    let mount: FuseMount;
    try {
      mount = await mountFuse(ws, path, {
        fsName: `vibe:${id}`,
        // Every change reaches the kernel through this mount or, from outside
        // (restore), as an explicit invalidation: long timeouts are safe.
        attrTimeoutSec: 10,
        entryTimeoutSec: 10,
        negativeTimeoutSec: 1,
        keepCache: (ino) => {
          try {
            const n = ws.node(ino);
            return n.kind === "file" && !n.materialized && n.oid !== null;
          } catch {
            return false;
          }
        },
        // Read-only opens of clean big files read the blob cache file through the kernel.
        backingFile: (ino) => ws.backingFile(ino),
        log: (msg) => this.#log(`[${id}] ${msg}`),
      });
    } catch (e) {
      this.project.closeWorkspace(id);
      throw e;
    }
    const m: Mounted = { id, path, transport: "fuse", mount, mountedMs: Date.now(), madeDir };
    this.#mounts.set(id, m);
    this.project.meta.updateVibe(id, { mountPath: path, transport: "fuse" });
    mount.closed.then(() => {
      // Unmounted from outside (umount, lazy detach): forget it, keep the record
      // only when the daemon itself is stopping (so a restart remounts it).
      if (this.#mounts.get(id) === m) {
        this.#mounts.delete(id);
        this.project.closeWorkspace(id);
        if (!this.#stopping) this.project.meta.updateVibe(id, { mountPath: null, transport: null });
        this.#log(`${id} was unmounted from outside`);
      }
    }).catch(() => {});
    return m;
  }

  /**
   * Exports a vibe over NFSv3 on its own port (idempotent). The export
   * path and every file handle carry the vibe's secret, kept in the metadata
   * so handles stay valid across daemon restarts.
   */
  async serveNfs(id: string, port: number, hostname: string, privilegedOnly = false) {
    const running = this.#nfs.get(id);
    if (running) return nfsInfo(id, running);
    const vibe = this.project.vibe(id);
    const key = `nfs-secret:${id}`;
    let secretHex = this.project.meta.getSetting(key);
    if (!secretHex) {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      secretHex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
      this.project.meta.setSetting(key, secretHex);
    }
    const secret = new Uint8Array(secretHex.match(/../g)!.map((h) => parseInt(h, 16)));
    const { serveNfs } = await import("../nfs/mod.ts");
    const server = await serveNfs({
      vibeId: id,
      vfs: this.project.workspace(id),
      secret,
      epoch: vibe.createdMs,
      hostname,
      port,
      requirePrivilegedPort: privilegedOnly,
      log: (msg) => this.#log(`[${id} nfs] ${msg}`),
    });
    this.#nfs.set(id, server);
    this.#log(`serving ${id} over NFS on ${server.hostname}:${server.port}`);
    return nfsInfo(id, server);
  }

  async unserveNfs(id: string): Promise<void> {
    const s = this.#nfs.get(id);
    if (!s) return;
    this.#nfs.delete(id);
    await s.close();
    if (!this.#mounts.has(id)) this.project.closeWorkspace(id);
  }

  /** Drops the kernel's caches of a mounted vibe's changed inodes and entries (after a restore). */
  async invalidate(
    id: string,
    inos: number[],
    entries: { parent: number; name: string }[] = [],
  ): Promise<void> {
    const m = this.#mounts.get(id);
    if (!m) return;
    for (const e of entries) {
      await m.mount.invalidateEntry(e.parent, e.name).catch(() => {});
    }
    for (const ino of inos) await m.mount.invalidateInode(ino).catch(() => {});
  }

  /** True while the kernel holds a reference to the inode (open file, cached lookup). */
  referenced(id: string, ino: number): boolean {
    if (!this.#mounts.has(id)) return false;
    try {
      return this.project.workspace(id).isReferenced(ino);
    } catch {
      return false;
    }
  }

  /** Unmounts a vibe and forgets its mount path. */
  async unmount(id: string, keepRecord = false): Promise<void> {
    const m = this.#mounts.get(id);
    if (m?.transport !== "nfs") await this.unserveNfs(id);
    if (!m) return;
    this.#mounts.delete(id);
    await m.mount.unmount();
    if (m.transport === "nfs") await this.unserveNfs(id);
    if (m.madeDir) {
      try {
        Deno.removeSync(m.path); // only when empty: never anything else
      } catch { /* not empty, or gone */ }
    }
    this.project.closeWorkspace(id);
    if (!keepRecord && this.project.meta.getVibe(id)) {
      this.project.meta.updateVibe(id, { mountPath: null, transport: null });
    }
  }

  /** Stops serving: unmounts every vibe (keeping the records so a restart remounts them). */
  stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = (async () => {
        this.#log("stopping");
        for (const id of [...this.#mounts.keys()]) {
          await this.unmount(id, true).catch((e) => this.#log(`unmount ${id}: ${e.message}`));
        }
        for (const id of [...this.#nfs.keys()]) await this.unserveNfs(id).catch(() => {});
        try {
          this.#listener?.close();
        } catch { /* closed */ }
        await Deno.remove(this.socket).catch(() => {});
        await Deno.remove(`${this.project.vibeDir}/${INFO_FILE}`).catch(() => {});
        this.project.close();
        this.#done.resolve();
      })();
    }
    return this.#stopping;
  }
}

function nfsInfo(id: string, s: NfsServer) {
  return {
    id,
    hostname: s.hostname,
    port: s.port,
    exportPath: s.exportPath,
    linuxMount: `mount -t nfs -o vers=3,proto=tcp,port=${s.port},mountport=${s.port},` +
      `mountproto=tcp,nolock ${s.hostname}:${s.exportPath} <dir>`,
    macosMount: `mount_nfs -o vers=3,tcp,port=${s.port},mountport=${s.port},nolocks ` +
      `${s.hostname}:${s.exportPath} <dir>`,
  };
}
