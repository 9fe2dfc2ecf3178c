/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/** `vibe dash --once`: the fleet view printed once, as text. */
import { renderToString } from "ink";
import type { DashSnapshot } from "../dash/types.ts";
import { FleetView } from "./fleet.tsx";
import { fleetRows } from "./model.ts";

export function printOnce(s: DashSnapshot): void {
  const columns = Deno.stdout.isTerminal() ? Deno.consoleSize().columns : 100;
  const rows = fleetRows(s, "", "id", false);
  console.log(renderToString(
    <FleetView
      rows={rows}
      total={rows.length}
      selectedId={null}
      nowMs={s.takenMs}
      width={columns}
      height={rows.length + 2}
      sort="id"
      reverse={false}
      filter=""
    />,
    { columns },
  ));
}
