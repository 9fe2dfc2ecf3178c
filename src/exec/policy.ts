/**
 * The exec policy: from a command's categories (src/exec/classify.ts) and
 * the project's rules (`.vibe/config.json` → "policy") to one decision.
 *
 *   "policy": {
 *     "categories": { "networked": "require_approval" },
 *     "rules": [ { "match": "git push*", "action": "deny", "reason": "…" } ]
 *   }
 *
 * Each simple command is decided on its own: the first rule whose pattern
 * matches it wins (in either direction), else the most restrictive default
 * of its categories. The command line's decision is the most restrictive of
 * its simple commands. A command line that cannot be parsed needs approval.
 */
import { VibeError } from "../errors.ts";
import { CATEGORIES, type Category, classify, type ClassifyContext } from "./classify.ts";

export const ACTIONS = ["allow", "allow_with_checkpoint", "require_approval", "deny"] as const;
export type Action = typeof ACTIONS[number];

const RANK: Record<Action, number> = {
  allow: 0,
  allow_with_checkpoint: 1,
  require_approval: 2,
  deny: 3,
};

export const DEFAULT_ACTIONS: Record<Category, Action> = {
  "read-only": "allow",
  "mutating": "allow_with_checkpoint",
  "destructive": "allow_with_checkpoint",
  "networked": "allow_with_checkpoint",
  "interactive": "deny",
  "host-escape-risk": "deny",
};

const WHY_DEFAULT: Record<Category, string> = {
  "read-only": "reads only",
  "mutating": "changes files in the vibe (a checkpoint makes it undoable)",
  "destructive": "deletes or overwrites in the vibe (a checkpoint makes it undoable)",
  "networked": "uses the network (a checkpoint covers what it writes)",
  "interactive": "needs a terminal and a person, which an agent does not have",
  "host-escape-risk": "could act outside the vibe, on the host",
};

export interface Rule {
  match: string;
  action: Action;
  reason?: string;
  /** Compiled from `match`. */
  re: RegExp;
  index: number;
}

export interface ValidatedPolicy {
  categories: Record<Category, Action>;
  /** Categories whose action the project changed. */
  overridden: Category[];
  rules: Rule[];
}

export interface CommandDecision {
  /** argv after unwrapping (what rules and explanations name). */
  text: string;
  /** As written, wrappers and assignments included. */
  written: string;
  categories: Category[];
  action: Action;
  /** The rule that decided, as written. */
  rule?: { index: number; match: string };
  reasons: string[];
  why: Partial<Record<Category, string>>;
}

export interface Decision {
  action: Action;
  categories: Category[];
  reason: string;
  commands: CommandDecision[];
  /** False when the command line could not be parsed. */
  parsed: boolean;
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (const c of glob) {
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

function usage(where: string, problem: string, fix: string): VibeError {
  return new VibeError("USAGE", `.vibe/config.json: ${where} ${problem} (${fix})`);
}

const actionList = ACTIONS.join(", ");

/** Checks the "policy" section; `where` prefixes key paths in messages. */
export function validatePolicyConfig(value: unknown, where = "policy"): ValidatedPolicy {
  const categories = { ...DEFAULT_ACTIONS };
  const out: ValidatedPolicy = { categories, overridden: [], rules: [] };
  if (value === undefined || value === null) return out;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw usage(where, "must be an object", 'with "categories" and/or "rules"');
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== "categories" && k !== "rules") {
      throw usage(`${where}.${k}`, "is not a policy setting", 'use "categories" and "rules"');
    }
  }
  if (o["categories"] !== undefined) {
    const c = o["categories"];
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
      throw usage(
        `${where}.categories`,
        "must be an object",
        'e.g. {"networked": "require_approval"}',
      );
    }
    for (const [k, v] of Object.entries(c)) {
      if (!(CATEGORIES as readonly string[]).includes(k)) {
        throw usage(
          `${where}.categories.${k}`,
          "is not a category",
          `use one of ${CATEGORIES.join(", ")}`,
        );
      }
      if (!(ACTIONS as readonly string[]).includes(v as string)) {
        throw usage(
          `${where}.categories.${k}`,
          `has an unknown action ${JSON.stringify(v)}`,
          `use one of ${actionList}`,
        );
      }
      categories[k as Category] = v as Action;
      out.overridden.push(k as Category);
    }
  }
  if (o["rules"] !== undefined) {
    const rules = o["rules"];
    if (!Array.isArray(rules)) {
      throw usage(
        `${where}.rules`,
        "must be a list",
        'e.g. [{"match": "git push*", "action": "deny"}]',
      );
    }
    rules.forEach((r, index) => {
      const at = `${where}.rules[${index}]`;
      if (typeof r !== "object" || r === null || Array.isArray(r)) {
        throw usage(at, "must be an object", 'with "match", "action" and an optional "reason"');
      }
      const rr = r as Record<string, unknown>;
      for (const k of Object.keys(rr)) {
        if (k !== "match" && k !== "action" && k !== "reason") {
          throw usage(`${at}.${k}`, "is not a rule field", 'use "match", "action", "reason"');
        }
      }
      const match = rr["match"];
      if (typeof match !== "string" || match === "") {
        throw usage(
          `${at}.match`,
          "must be a non-empty string",
          'a glob like "rm -rf *" or a regex like "/^curl /i"',
        );
      }
      if (!(ACTIONS as readonly string[]).includes(rr["action"] as string)) {
        throw usage(
          `${at}.action`,
          `is ${JSON.stringify(rr["action"])}, not an action`,
          `use one of ${actionList}`,
        );
      }
      if (rr["reason"] !== undefined && typeof rr["reason"] !== "string") {
        throw usage(`${at}.reason`, "must be a string", "or leave it out");
      }
      let re: RegExp;
      const m = match.match(/^\/(.*)\/([a-z]*)$/s);
      if (m) {
        if (/[^i]/.test(m[2]!)) {
          throw usage(
            `${at}.match`,
            `has unsupported regex flags "${m[2]}"`,
            'only "i" is allowed',
          );
        }
        try {
          re = new RegExp(m[1]!, m[2]);
        } catch (e) {
          throw usage(
            `${at}.match`,
            `is not a valid regex: ${(e as Error).message}`,
            "fix the pattern",
          );
        }
      } else re = globToRegExp(match);
      const rule: Rule = { match, action: rr["action"] as Action, re, index };
      if (typeof rr["reason"] === "string") rule.reason = rr["reason"];
      out.rules.push(rule);
    });
  }
  return out;
}

const stricter = (a: Action, b: Action): Action => (RANK[b] > RANK[a] ? b : a);

/** Decides one command line (argv or shell string) run in `ctx`. */
export function decide(
  input: { argv?: string[]; shell?: string },
  ctx: ClassifyContext,
  policy: ValidatedPolicy,
): Decision {
  const c = classify(input, ctx);
  const commands: CommandDecision[] = c.commands.map((cmd) => {
    const rule = policy.rules.find((r) => r.re.test(cmd.text) || r.re.test(cmd.fullText));
    if (rule) {
      return {
        text: cmd.text,
        written: cmd.fullText,
        categories: cmd.categories,
        action: rule.action,
        rule: { index: rule.index, match: rule.match },
        reasons: [rule.reason ?? `project rule ${rule.index} ("${rule.match}")`, ...cmd.reasons],
        why: cmd.why,
      };
    }
    let action: Action = "allow";
    for (const cat of cmd.categories) action = stricter(action, policy.categories[cat]);
    return {
      text: cmd.text,
      written: cmd.fullText,
      categories: cmd.categories,
      action,
      reasons: cmd.reasons,
      why: cmd.why,
    };
  });
  if (!c.ok) {
    return {
      action: "require_approval",
      categories: c.categories,
      reason: `the command cannot be checked: ${c.error} (a person must approve it)`,
      commands,
      parsed: false,
    };
  }
  let action: Action = "allow";
  let decider: CommandDecision | undefined;
  for (const d of commands) {
    if (!decider || RANK[d.action] > RANK[action]) {
      action = stricter(action, d.action);
      decider = d;
    }
  }
  let reason = "nothing to run";
  if (decider) {
    if (decider.rule) {
      reason = `${
        decider.reasons[0]
      } (rule ${decider.rule.index}: "${decider.rule.match}" matched "${decider.text}")`;
    } else {
      const cat = decider.categories.find((k) => policy.categories[k] === action) ??
        decider.categories[0];
      const detail = cat ? decider.why[cat] ?? WHY_DEFAULT[cat] : "";
      const how = cat
        ? ` (${cat} → ${action}${
          policy.overridden.includes(cat) ? " by project setting" : " by default"
        })`
        : "";
      reason = `"${decider.written || decider.text}": ${detail}${how}`;
    }
  }
  return { action, categories: c.categories, reason, commands, parsed: true };
}

/** Several lines for `vibe policy test`: the decision, then each command and why. */
export function explainDecision(d: Decision): string {
  const lines = [
    `decision: ${d.action}`,
    `categories: ${d.categories.join(", ") || "(none)"}`,
    `why: ${d.reason}`,
  ];
  if (!d.parsed) lines.push("the command line could not be parsed, so it is held for approval");
  for (const c of d.commands) {
    const by = c.rule ? `rule ${c.rule.index} "${c.rule.match}"` : "category defaults";
    lines.push(
      `- ${c.text || "(redirection only)"}: ${c.action} by ${by} [${c.categories.join(", ")}]`,
    );
    for (const r of c.reasons) lines.push(`    ${r}`);
  }
  return lines.join("\n");
}

/** The policy for `vibe policy show`. */
export function describePolicy(p: ValidatedPolicy): string {
  const lines = ["Category defaults (most restrictive of a command's categories applies):"];
  for (const c of CATEGORIES) {
    const mark = p.overridden.includes(c) ? "  (project)" : "";
    lines.push(`  ${c.padEnd(17)} ${p.categories[c].padEnd(22)} ${WHY_DEFAULT[c]}${mark}`);
  }
  lines.push("Unparseable command lines: require_approval");
  if (p.rules.length === 0) {
    lines.push('Project rules: none (add "policy": {"rules": [...]} to .vibe/config.json)');
  } else {
    lines.push("Project rules (first match wins, per simple command):");
    for (const r of p.rules) {
      lines.push(`  [${r.index}] ${r.match}  →  ${r.action}${r.reason ? `  (${r.reason})` : ""}`);
    }
  }
  return lines.join("\n");
}

/** The JSON form of `vibe policy show --json`. */
export function policyToJson(p: ValidatedPolicy) {
  return {
    categories: p.categories,
    overridden: p.overridden,
    unparseable: "require_approval",
    rules: p.rules.map((r) => ({
      index: r.index,
      match: r.match,
      action: r.action,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    })),
  };
}
