/**
 * `vibe doctor` (diagnose this machine and project) and `vibe gc` (clean up
 * what crashes leave behind). Both are safe to run at any time: gc touches
 * only what no live process uses.
 */
import { VIBE_DIR } from "../project/project.ts";
import { findRepo } from "../git/repo_paths.ts";
import { connectDaemon, readDaemonInfoFor } from "./client.ts";
import {
  clearStaleMount,
  isMounted,
  pathExists as exists,
  probeMount,
  vibeMounts,
} from "./mounts.ts";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when not ok. */
  fix?: string;
}

function which(cmd: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin:/usr/sbin:/sbin").split(":")) {
    if (exists(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return null;
}

function fuseCheck(): Check {
  if (Deno.build.os !== "linux") {
    return {
      name: "FUSE",
      ok: false,
      detail: `not used on ${Deno.build.os}`,
      fix: "vibe mounts over NFS here",
    };
  }
  if (!exists("/dev/fuse")) {
    return {
      name: "FUSE",
      ok: false,
      detail: "/dev/fuse is missing",
      fix: "load the module (modprobe fuse) or, in a container, pass --device /dev/fuse",
    };
  }
  try {
    Deno.openSync("/dev/fuse", { read: true, write: true }).close();
  } catch (e) {
    return {
      name: "FUSE",
      ok: false,
      detail: `/dev/fuse cannot be opened: ${(e as Error).message}`,
      fix: "run vibe as root",
    };
  }
  return { name: "FUSE", ok: true, detail: "/dev/fuse opens read-write" };
}

/** FUSE passthrough (kernel >= 6.9, as root): clean big files read by the kernel itself. */
function passthroughCheck(): Check | null {
  if (Deno.build.os !== "linux") return null;
  const release = Deno.osRelease();
  const [major, minor] = release.split(".").map((x) => parseInt(x, 10));
  const kernelHasIt = (major ?? 0) > 6 || (major === 6 && (minor ?? 0) >= 9);
  if (kernelHasIt && Deno.uid() === 0) {
    return {
      name: "passthrough",
      ok: true,
      detail: `kernel ${release}: read-only opens of big clean files are passed through ` +
        `(each mount reports it: vibe daemon status --json)`,
    };
  }
  return {
    name: "passthrough",
    ok: false,
    detail: kernelHasIt
      ? "not root: backing files need CAP_SYS_ADMIN, so big files are read through the daemon"
      : `kernel ${release} predates FUSE passthrough (6.9): big files are read through the daemon`,
    fix: "optional: as root on a kernel >= 6.9, warm re-reads of big clean files run at " +
      "native page-cache speed",
  };
}

function privilegeCheck(): Check {
  const uid = Deno.uid();
  if (uid === 0) {
    return { name: "privileges", ok: true, detail: "running as root: mount(2) works directly" };
  }
  return {
    name: "privileges",
    ok: false,
    detail: "not root: FUSE mounts need root (mounting through fusermount3 is not supported yet)",
    fix: 'run vibe as root (e.g. sudo), or use "vibe spawn --no-mount"',
  };
}

function nfsCheck(): Check {
  let fs = "";
  try {
    fs = Deno.readTextFileSync("/proc/filesystems");
  } catch { /* not Linux */ }
  const kernel = /\tnfs\n/.test(fs) || /\tnfs4\n/.test(fs);
  const helper = which("mount.nfs") ?? which("mount_nfs");
  if (kernel || helper) {
    return {
      name: "NFS client",
      ok: true,
      detail: kernel ? "kernel NFS client present" : `${helper}`,
    };
  }
  return {
    name: "NFS client",
    ok: false,
    detail: "this kernel has no NFS client",
    fix: "FUSE is used instead; to export a vibe to a VM or another machine use vibe serve --nfs",
  };
}

async function reflinkCheck(vibeDir: string): Promise<Check> {
  const dir = `${vibeDir}/tmp`;
  Deno.mkdirSync(dir, { recursive: true });
  const a = `${dir}/reflink-probe-${Deno.pid}`;
  const b = `${a}.clone`;
  try {
    Deno.writeFileSync(a, new Uint8Array(4096).fill(7));
    const o = await new Deno.Command("cp", { args: ["--reflink=always", a, b], stderr: "null" })
      .output();
    return o.success
      ? { name: "reflinks", ok: true, detail: `the filesystem of ${vibeDir} supports reflinks` }
      : {
        name: "reflinks",
        ok: false,
        detail: `the filesystem of ${vibeDir} cannot reflink: snapshots copy bytes`,
        fix: "put the project on btrfs, xfs (reflink=1) or APFS for constant-time snapshots",
      };
  } catch (e) {
    return { name: "reflinks", ok: false, detail: `probe failed: ${(e as Error).message}` };
  } finally {
    for (const f of [a, b]) await Deno.remove(f).catch(() => {});
  }
}

export interface DoctorReport {
  checks: Check[];
  staleMounts: string[];
  daemon: { running: boolean; pid: number | null };
}

export async function doctor(cwd: string): Promise<DoctorReport> {
  const pt = passthroughCheck();
  const checks: Check[] = [fuseCheck(), ...(pt ? [pt] : []), privilegeCheck(), nfsCheck()];
  let vibeDir: string | null = null;
  try {
    vibeDir = `${(await findRepo(cwd)).workTree}/${VIBE_DIR}`;
  } catch (e) {
    checks.push({
      name: "project",
      ok: false,
      detail: (e as Error).message,
      fix: "cd into a git repository",
    });
  }
  const git = await new Deno.Command("git", {
    args: ["--version"],
    stdout: "piped",
    stderr: "null",
  })
    .output().catch(() => null);
  checks.push(
    git?.success
      ? { name: "git", ok: true, detail: new TextDecoder().decode(git.stdout).trim() }
      : { name: "git", ok: false, detail: "git is not on PATH", fix: "install git" },
  );
  let daemon = { running: false, pid: null as number | null };
  if (vibeDir && exists(`${vibeDir}/metadata.db`)) {
    checks.push({ name: "project", ok: true, detail: `initialized (${vibeDir})` });
    checks.push(await reflinkCheck(vibeDir));
    const c = await connectDaemon(vibeDir);
    if (c) {
      const info = await c.call("info") as { pid: number };
      await c.close();
      daemon = { running: true, pid: info.pid };
      checks.push({ name: "daemon", ok: true, detail: `running (pid ${info.pid})` });
    } else {
      const stale = readDaemonInfoFor(vibeDir);
      checks.push({
        name: "daemon",
        ok: true,
        detail: stale ? `not running (last pid ${stale.pid} is gone)` : "not running",
      });
    }
  } else if (vibeDir) {
    checks.push({ name: "project", ok: false, detail: "not initialized", fix: 'run "vibe init"' });
  }
  const staleMounts: string[] = [];
  const unresponsive: string[] = [];
  const health = await Promise.all(
    vibeMounts().map(async (m) => ({
      path: m.mountpoint,
      health: await probeMount(m.mountpoint),
    })),
  );
  for (const h of health) {
    if (h.health === "stale") staleMounts.push(h.path);
    if (h.health === "unresponsive") unresponsive.push(h.path);
  }
  checks.push(
    staleMounts.length === 0 ? { name: "stale mounts", ok: true, detail: "none" } : {
      name: "stale mounts",
      ok: false,
      detail: `${staleMounts.length} mount(s) left by a dead daemon: ${staleMounts.join(", ")}`,
      fix: 'run "vibe gc"',
    },
  );
  if (unresponsive.length > 0) {
    checks.push({
      name: "hung mounts",
      ok: false,
      detail: `no answer within 2 s from: ${unresponsive.join(", ")}`,
      fix: 'see "vibe daemon logs"; "vibe daemon stop" or kill the serving process, then "vibe gc"',
    });
  }
  return { checks, staleMounts, daemon };
}

export interface GcReport {
  staleMountsCleared: string[];
  orphanSessions: string[];
  deltaFilesRemoved: number;
  /** Snapshot directories without a snapshot row (a crash before the commit). */
  snapshotDirsRemoved: number;
  scratchRemoved: boolean;
  locksCleared: number;
  /** Cache store entries no name or vibe used any more (and interrupted adds). */
  cacheEntriesRemoved: string[];
}

/** Cleans what crashes leave behind; never touches a vibe a live process holds. */
export async function gc(cwd: string): Promise<GcReport> {
  const report: GcReport = {
    staleMountsCleared: [],
    orphanSessions: [],
    deltaFilesRemoved: 0,
    snapshotDirsRemoved: 0,
    scratchRemoved: false,
    locksCleared: 0,
    cacheEntriesRemoved: [],
  };
  for (const m of vibeMounts()) {
    if (isMounted(m.mountpoint) && (await clearStaleMount(m.mountpoint))) {
      report.staleMountsCleared.push(m.mountpoint);
    }
  }
  const { Project } = await import("../project/project.ts");
  const project = await Project.open(cwd);
  try {
    report.locksCleared = project.meta.clearDeadLocks();
    const ids = new Set(project.meta.listVibes().map((v) => v.id));
    const sessions = `${project.vibeDir}/sessions`;
    for (const e of Deno.readDirSync(sessions)) {
      if (!ids.has(e.name)) {
        await Deno.remove(`${sessions}/${e.name}`, { recursive: true });
        report.orphanSessions.push(e.name);
      }
    }
    for (const id of ids) {
      // Only vibes nobody holds: a live holder may be between writing bytes and the metadata flip.
      if (!project.meta.tryLock(`vibe:${id}`, `gc:${Deno.pid}`)) continue;
      try {
        const { DeltaStore } = await import("../delta/delta_store.ts");
        const delta = new DeltaStore(project.sessionDir(id));
        report.deltaFilesRemoved += delta.collectGarbage(
          new Set(project.meta.materializedInos(id)),
        );
        delta.close();
        const { removeOrphanSnapshotDirs } = await import("../project/snapshot.ts");
        report.snapshotDirsRemoved += removeOrphanSnapshotDirs(project, id);
      } finally {
        project.meta.unlock(`vibe:${id}`, `gc:${Deno.pid}`);
      }
    }
    const { pruneCacheStore } = await import("../layers/cache_store.ts");
    report.cacheEntriesRemoved = pruneCacheStore(project.meta, project.vibeDir);
    const scratch = `${project.vibeDir}/scratch`;
    if (exists(scratch)) {
      await Deno.remove(scratch, { recursive: true });
      report.scratchRemoved = true;
    }
  } finally {
    project.close();
  }
  return report;
}
