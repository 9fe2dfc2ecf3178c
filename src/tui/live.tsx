/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/**
 * The live dashboard: the one module of src/tui that touches the world. It
 * starts the collector (src/dash), renders `DashApp` in the terminal's
 * alternate screen, re-renders it with each new snapshot (Ink redraws only
 * changed lines: no flicker) and runs the actions the user confirms.
 */
import { render } from "ink";
import { DashCollector } from "../dash/collector.ts";
import { commitAction, dropAction, promoteAction } from "../dash/actions.ts";
import type { DashSnapshot } from "../dash/types.ts";
import { DashApp, type DashHandlers } from "./app.tsx";

export async function runLive(cwd: string): Promise<void> {
  const collector = await DashCollector.open(cwd);
  let instance: ReturnType<typeof render> | null = null;
  const handlers: DashHandlers = {
    async action(kind, id, commit) {
      try {
        if (kind === "promote") return await promoteAction(cwd, id);
        if (kind === "commit") return await commitAction(cwd, id);
        return await dropAction(cwd, id, commit ?? "");
      } finally {
        collector.poke();
      }
    },
    fileDiff: (id, path) => collector.fileDiff(id, path),
    quit: () => instance?.unmount(),
  };
  try {
    await collector.refresh();
    const app = (s: DashSnapshot) => <DashApp snapshot={s} handlers={handlers} />;
    instance = render(app(collector.snapshot()), {
      // runDash checked for a terminal; Ink would otherwise draw nothing
      // (only a last frame at exit) wherever a CI variable is set.
      interactive: true,
      alternateScreen: true,
      incrementalRendering: true,
      exitOnCtrlC: true,
      maxFps: 20,
    });
    collector.start((s) => instance?.rerender(app(s)));
    await instance.waitUntilExit();
  } finally {
    await collector.close();
  }
}
