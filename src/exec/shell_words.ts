/**
 * A small parser for POSIX `sh` command strings, written to classify commands
 * safely rather than to run them. It turns a command string into a flat list of
 * simple commands (argv, assignments, redirections) in execution order, with
 * the structure the classifier needs: pipeline position, background `&`,
 * subshell scope (so `cd` inside `( … )` does not leak out) and the commands
 * that command substitutions (`$(…)`, backticks, `<(…)`) and unquoted here-doc
 * bodies run.
 *
 * Invariants:
 * - Pure: no I/O, no environment lookups. Expansions (`$X`, `$(…)`) are never
 *   evaluated; words keep their source spelling and are flagged `dynamic`.
 * - Anything the parser cannot follow (unbalanced quotes or parentheses, a
 *   missing command after `&&`, `case … esac`) yields `{ ok: false }`, never a
 *   guess: the policy treats that as "needs approval".
 * - Compound keywords (`if`, `while`, `for`, …) are looked through: every
 *   command they contain is listed, whether or not it would run.
 */

/** A shell word after quote removal. */
export interface Word {
  /** Value after quote removal; expansions keep their source spelling (`$HOME/x`). */
  text: string;
  /** Source spelling, quotes included. */
  raw: string;
  /** True when any part of the word was quoted or escaped. */
  quoted: boolean;
  /** True when the value depends on a run-time expansion (`$X`, `${X}`, `$(…)`, backticks, `<(…)`). */
  dynamic: boolean;
  /** Source of the expansion the word starts with (`$HOME`, `${X}`, `$(pwd)`), else null. */
  lead: string | null;
  /** True when the word starts with an unquoted `~` (tilde expansion). */
  tilde: boolean;
  /** True when the word has unquoted glob characters (`*`, `?`, `[`). */
  glob: boolean;
  /** Commands run by command or process substitutions inside this word, in order. */
  substitutions: SimpleCommand[];
}

/** A here-document attached to a `<<` / `<<-` redirection. */
export interface HereDoc {
  delimiter: string;
  body: string;
  /** False when the delimiter was quoted (`<<'EOF'`): the body is literal. */
  expands: boolean;
  /** Commands run by `$(…)` / backticks inside an expanding body. */
  substitutions: SimpleCommand[];
}

/** One redirection. `target` is the word after the operator (a here-doc's delimiter). */
export interface Redirect {
  /** `>`, `>>`, `>|`, `<`, `<<`, `<<-`, `<<<`, `<>`, `>&`, `<&`, `&>`, `&>>`. */
  op: string;
  /** Explicit file descriptor before the operator (`2>`), else null. */
  fd: number | null;
  target: Word;
  heredoc: HereDoc | null;
}

/** Where a command sits in a pipeline of two or more stages. */
export interface PipePosition {
  /** Identifies the pipeline within one parse result. */
  id: number;
  /** 0 for the first stage. */
  index: number;
  length: number;
}

/** One simple command, in execution order. */
export interface SimpleCommand {
  /** Words after quote removal (empty for a redirect-only command such as `> file`). */
  argv: string[];
  /** The same words with their flags; parallel to `argv`. */
  words: Word[];
  /** Leading `NAME=value` assignments, as written (quotes removed). */
  assignments: string[];
  assignmentWords: Word[];
  redirects: Redirect[];
  /** True when the command's list was put in the background with `&`. */
  background: boolean;
  /** Pipeline position, or null when the command is not part of a pipeline. */
  pipe: PipePosition | null;
  /**
   * Subshell scope path: ids of the enclosing `( … )` groups and pipeline
   * stages, outermost first ([] at top level). A `cd` affects the commands
   * whose scope starts with the `cd`'s scope.
   */
  scope: number[];
}

/** Result of {@link parseShell}. */
export type ParseResult =
  | { ok: true; commands: SimpleCommand[] }
  | { ok: false; error: string; offset: number };

/** Parses a POSIX sh command string into simple commands. Never throws. */
export function parseShell(src: string): ParseResult {
  try {
    return { ok: true, commands: parseSource(src, 0) };
  } catch (e) {
    if (e instanceof ShellSyntaxError) return { ok: false, error: e.message, offset: e.offset };
    throw e;
  }
}

/** A word with a fixed literal value, as for an argv passed without a shell. */
export function literalWord(text: string): Word {
  return {
    text,
    raw: text,
    quoted: false,
    dynamic: false,
    lead: null,
    tilde: false,
    glob: false,
    substitutions: [],
  };
}

/** Quotes `s` for display so that sh would read it back as one word. */
export function shellQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./{}-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

// ---------------------------------------------------------------------------

const MAX_DEPTH = 40;

class ShellSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

type Token =
  | { t: "word"; w: Word; pos: number }
  | { t: "op"; op: string; pos: number }
  | { t: "redir"; op: string; fd: number | null; pos: number; heredoc: HereDoc | null };

interface PendingHereDoc {
  doc: HereDoc;
  strip: boolean;
}

function parseSource(src: string, depth: number): SimpleCommand[] {
  if (depth > MAX_DEPTH) throw new ShellSyntaxError("commands are nested too deeply", 0);
  const lexer = new Lexer(src, 0, false, depth);
  const tokens = lexer.run();
  return new Parser(tokens, src.length).parseAll();
}

const META = new Set([" ", "\t", "\n", ";", "&", "|", "(", ")", "<", ">"]);

class Lexer {
  /** Read position (internal; read by {@link substitutionsIn}). */
  i: number;
  private readonly tokens: Token[] = [];
  private readonly pending: PendingHereDoc[] = [];
  private parenDepth = 0;
  private expectDelimiter: { strip: boolean; redir: Token & { t: "redir" } } | null = null;

  constructor(
    private readonly src: string,
    start: number,
    /** Stop at the `)` that closes a `$(`; `end` is then the index after it. */
    private readonly stopAtParen: boolean,
    private readonly depth: number,
  ) {
    this.i = start;
  }

  end = 0;

  run(): Token[] {
    const s = this.src;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === " " || c === "\t" || c === "\r") {
        this.i++;
        continue;
      }
      if (c === "\\" && s[this.i + 1] === "\n") {
        this.i += 2;
        continue;
      }
      if (c === "#") {
        while (this.i < s.length && s[this.i] !== "\n") this.i++;
        continue;
      }
      const pos = this.i;
      if (c === "\n") {
        this.i++;
        this.push({ t: "op", op: "\n", pos });
        this.readHereDocs();
        continue;
      }
      if (c === ";") {
        if (s[this.i + 1] === ";" || s[this.i + 1] === "&") {
          throw new ShellSyntaxError("case statements are not supported", pos);
        }
        this.i++;
        this.push({ t: "op", op: ";", pos });
        continue;
      }
      if (c === "&") {
        if (s[this.i + 1] === "&") {
          this.i += 2;
          this.push({ t: "op", op: "&&", pos });
        } else if (s[this.i + 1] === ">") {
          const op = s[this.i + 2] === ">" ? "&>>" : "&>";
          this.i += op.length;
          this.pushRedir(op, null, pos);
        } else {
          this.i++;
          this.push({ t: "op", op: "&", pos });
        }
        continue;
      }
      if (c === "|") {
        if (s[this.i + 1] === "|") {
          this.i += 2;
          this.push({ t: "op", op: "||", pos });
        } else {
          this.i += s[this.i + 1] === "&" ? 2 : 1;
          this.push({ t: "op", op: "|", pos });
        }
        continue;
      }
      if (c === "(") {
        this.i++;
        this.parenDepth++;
        this.push({ t: "op", op: "(", pos });
        continue;
      }
      if (c === ")") {
        this.i++;
        if (this.parenDepth === 0 && this.stopAtParen) {
          this.end = this.i;
          this.finishHereDocs();
          return this.tokens;
        }
        this.parenDepth--;
        this.push({ t: "op", op: ")", pos });
        continue;
      }
      if ((c === "<" || c === ">") && s[this.i + 1] !== "(") {
        this.lexRedir(null, pos);
        continue;
      }
      this.lexWord();
    }
    if (this.stopAtParen) throw new ShellSyntaxError('unterminated "$(": missing ")"', this.i);
    this.end = this.i;
    this.finishHereDocs();
    return this.tokens;
  }

  private push(tok: Token): void {
    if (this.expectDelimiter) {
      throw new ShellSyntaxError("a here-document needs a delimiter word after <<", tok.pos);
    }
    this.tokens.push(tok);
  }

  private finishHereDocs(): void {
    if (this.expectDelimiter) {
      throw new ShellSyntaxError("a here-document needs a delimiter word after <<", this.i);
    }
    // A here-doc whose body never started (no newline): bash reads an empty body.
    this.pending.length = 0;
  }

  private pushRedir(op: string, fd: number | null, pos: number): void {
    const tok: Token & { t: "redir" } = { t: "redir", op, fd, pos, heredoc: null };
    this.push(tok);
    if (op === "<<" || op === "<<-") this.expectDelimiter = { strip: op === "<<-", redir: tok };
  }

  private lexRedir(fd: number | null, pos: number): void {
    const s = this.src;
    const ops = ["<<<", "<<-", "<<", "<>", "<&", "<", ">>", ">|", ">&", ">"];
    for (const op of ops) {
      if (s.startsWith(op, this.i)) {
        this.i += op.length;
        this.pushRedir(op, fd, pos);
        return;
      }
    }
  }

  /** Reads the bodies of pending here-docs, starting at the line after their `<<`. */
  private readHereDocs(): void {
    const s = this.src;
    for (const p of this.pending.splice(0)) {
      const lines: string[] = [];
      for (;;) {
        if (this.i >= s.length) break; // unterminated: the body runs to the end (as bash does)
        let nl = s.indexOf("\n", this.i);
        if (nl < 0) nl = s.length;
        let line = s.slice(this.i, nl);
        this.i = Math.min(nl + 1, s.length);
        if (p.strip) line = line.replace(/^\t+/, "");
        if (line === p.doc.delimiter) break;
        lines.push(line);
      }
      p.doc.body = lines.join("\n");
      if (p.doc.expands) p.doc.substitutions = substitutionsIn(p.doc.body, this.depth);
    }
  }

  private lexWord(): void {
    const s = this.src;
    const pos = this.i;
    const w: Word = {
      text: "",
      raw: "",
      quoted: false,
      dynamic: false,
      lead: null,
      tilde: false,
      glob: false,
      substitutions: [],
    };
    const atStart = () => w.text === "" && !w.dynamic;
    const expansion = (source: string) => {
      if (atStart()) w.lead = source;
      w.dynamic = true;
      w.text += source;
    };
    if (s[this.i] === "~") w.tilde = true;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (META.has(c)) {
        if ((c === "<" || c === ">") && s[this.i + 1] === "(") {
          // process substitution <(…) / >(…)
          const start = this.i;
          const inner = this.subLex(this.i + 2);
          w.substitutions.push(...inner.commands);
          expansion(s.slice(start, this.i));
          continue;
        }
        if ((c === "<" || c === ">") && /^[0-9]+$/.test(w.text) && !w.quoted && !w.dynamic) {
          this.lexRedir(Number(w.text), pos);
          return;
        }
        break;
      }
      if (c === "\\") {
        if (s[this.i + 1] === "\n") {
          this.i += 2;
          continue;
        }
        if (this.i + 1 >= s.length) {
          this.i++;
          w.text += "\\";
          continue;
        }
        w.quoted = true;
        w.text += s[this.i + 1];
        this.i += 2;
        continue;
      }
      if (c === "'") {
        const close = s.indexOf("'", this.i + 1);
        if (close < 0) throw new ShellSyntaxError("unterminated single quote", this.i);
        w.quoted = true;
        w.text += s.slice(this.i + 1, close);
        this.i = close + 1;
        continue;
      }
      if (c === '"') {
        w.quoted = true;
        this.lexDoubleQuoted(w, expansion);
        continue;
      }
      if (c === "$") {
        if (s[this.i + 1] === "'") {
          w.quoted = true;
          this.lexAnsiC(w);
          continue;
        }
        if (s[this.i + 1] === '"') {
          this.i++;
          w.quoted = true;
          this.lexDoubleQuoted(w, expansion);
          continue;
        }
        this.lexDollar(w, expansion);
        continue;
      }
      if (c === "`") {
        this.lexBacktick(w, expansion);
        continue;
      }
      if (c === "*" || c === "?" || c === "[") w.glob = true;
      w.text += c;
      this.i++;
    }
    w.raw = s.slice(pos, this.i);
    if (this.expectDelimiter) {
      const { strip, redir } = this.expectDelimiter;
      this.expectDelimiter = null;
      const doc: HereDoc = { delimiter: w.text, body: "", expands: !w.quoted, substitutions: [] };
      redir.heredoc = doc;
      this.pending.push({ doc, strip });
    }
    this.push({ t: "word", w, pos });
  }

  private lexDoubleQuoted(w: Word, expansion: (source: string) => void): void {
    const s = this.src;
    const open = this.i;
    this.i++;
    for (;;) {
      if (this.i >= s.length) throw new ShellSyntaxError("unterminated double quote", open);
      const c = s[this.i]!;
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === "\\") {
        const n = s[this.i + 1];
        if (n === "\n") {
          this.i += 2;
        } else if (n === "$" || n === "`" || n === '"' || n === "\\") {
          w.text += n;
          this.i += 2;
        } else {
          w.text += "\\";
          this.i++;
        }
        continue;
      }
      if (c === "$") {
        this.lexDollar(w, expansion);
        continue;
      }
      if (c === "`") {
        this.lexBacktick(w, expansion);
        continue;
      }
      w.text += c;
      this.i++;
    }
  }

  private lexAnsiC(w: Word): void {
    const s = this.src;
    const open = this.i;
    this.i += 2;
    const esc: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'" };
    for (;;) {
      if (this.i >= s.length) throw new ShellSyntaxError("unterminated $'…' quote", open);
      const c = s[this.i]!;
      if (c === "'") {
        this.i++;
        return;
      }
      if (c === "\\" && this.i + 1 < s.length) {
        const n = s[this.i + 1]!;
        w.text += esc[n] ?? n;
        this.i += 2;
        continue;
      }
      w.text += c;
      this.i++;
    }
  }

  /** `$…` at this.i: parameter, arithmetic or command substitution. */
  lexDollar(w: Word, expansion: (source: string) => void): void {
    const s = this.src;
    const start = this.i;
    const n = s[this.i + 1];
    if (n === "(" && s[this.i + 2] === "(") {
      // arithmetic $(( … )): balanced parentheses; may itself hold $(…)
      let depth = 0;
      let j = this.i + 1;
      for (; j < s.length; j++) {
        if (s[j] === "(") depth++;
        else if (s[j] === ")" && --depth === 0) break;
      }
      if (j >= s.length) throw new ShellSyntaxError('unterminated "$((": missing "))"', start);
      this.i = j + 1;
      const source = s.slice(start, this.i);
      w.substitutions.push(...substitutionsIn(source.slice(3, -2), this.depth));
      expansion(source);
      return;
    }
    if (n === "(") {
      const inner = this.subLex(this.i + 2);
      w.substitutions.push(...inner.commands);
      expansion(s.slice(start, this.i));
      return;
    }
    if (n === "{") {
      let depth = 0;
      let j = this.i + 1;
      for (; j < s.length; j++) {
        const c = s[j];
        if (c === "\\") j++;
        else if (c === "'") {
          const close = s.indexOf("'", j + 1);
          if (close < 0) throw new ShellSyntaxError("unterminated single quote", j);
          j = close;
        } else if (c === "{") depth++;
        else if (c === "}" && --depth === 0) break;
      }
      if (j >= s.length) throw new ShellSyntaxError('unterminated "${": missing "}"', start);
      this.i = j + 1;
      const source = s.slice(start, this.i);
      w.substitutions.push(...substitutionsIn(source.slice(2, -1), this.depth));
      expansion(source);
      return;
    }
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(s.slice(this.i, this.i + 256));
    if (m) {
      this.i += m[0].length;
      expansion(m[0]);
      return;
    }
    w.text += "$";
    this.i++;
  }

  lexBacktick(w: Word, expansion: (source: string) => void): void {
    const s = this.src;
    const start = this.i;
    let j = this.i + 1;
    let inner = "";
    for (; j < s.length && s[j] !== "`"; j++) {
      if (s[j] === "\\" && j + 1 < s.length && "$`\\".includes(s[j + 1]!)) {
        inner += s[j + 1];
        j++;
      } else inner += s[j];
    }
    if (j >= s.length) throw new ShellSyntaxError("unterminated backquote", start);
    this.i = j + 1;
    w.substitutions.push(...parseSource(inner, this.depth + 1));
    expansion(s.slice(start, this.i));
  }

  /** Lexes and parses a `$(`/`<(` body starting at `from`; advances past its `)`. */
  private subLex(from: number): { commands: SimpleCommand[] } {
    if (this.depth + 1 > MAX_DEPTH) {
      throw new ShellSyntaxError("commands are nested too deeply", from);
    }
    const lexer = new Lexer(this.src, from, true, this.depth + 1);
    const tokens = lexer.run();
    this.i = lexer.end;
    return { commands: new Parser(tokens, from).parseAll() };
  }
}

/**
 * Commands run by `$(…)` and backticks inside text that the shell expands like
 * a double-quoted string (an unquoted here-doc body, `${…}`, `$((…))`).
 */
function substitutionsIn(text: string, depth: number): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if ((c === "$" && text[i + 1] === "(" && text[i + 2] !== "(") || c === "`") {
      // Lex the substitution as a one-word command string: "$(…)" or "`…`".
      const lexer = new Lexer(text, i, false, depth);
      const w: Word = literalWord("");
      const expansion = (source: string) => {
        w.text += source;
      };
      if (c === "`") lexer.lexBacktick(w, expansion);
      else lexer.lexDollar(w, expansion);
      out.push(...w.substitutions);
      i = lexer.i - 1;
    }
  }
  return out;
}

const KEYWORDS_SKIP = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "!",
]);

interface ParseCtx {
  scope: number[];
}

class Parser {
  private i = 0;
  private readonly out: SimpleCommand[] = [];
  private nextId = 1;

  constructor(private readonly tokens: Token[], private readonly endPos: number) {}

  parseAll(): SimpleCommand[] {
    this.parseList({ scope: [] }, null);
    if (this.i < this.tokens.length) {
      const t = this.tokens[this.i]!;
      throw new ShellSyntaxError(`unexpected "${tokenText(t)}"`, t.pos);
    }
    return this.out;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private pos(): number {
    return this.peek()?.pos ?? this.endPos;
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === "op" && t.op === op;
  }

  private isCloseBrace(): boolean {
    const t = this.peek();
    return t !== undefined && t.t === "word" && t.w.raw === "}";
  }

  private skipNewlines(): void {
    while (this.isOp("\n")) this.i++;
  }

  private parseList(ctx: ParseCtx, terminator: ")" | "}" | null): void {
    for (;;) {
      while (this.isOp("\n") || this.isOp(";")) this.i++;
      const t = this.peek();
      if (t === undefined) {
        if (terminator) {
          throw new ShellSyntaxError(
            `unbalanced "${terminator === ")" ? "(" : "{"}": missing "${terminator}"`,
            this.endPos,
          );
        }
        return;
      }
      if (terminator === ")" && this.isOp(")")) return;
      if (terminator === "}" && this.isCloseBrace()) return;
      if (t.t === "op" && t.op === ")") throw new ShellSyntaxError('unbalanced ")"', t.pos);
      const start = this.out.length;
      this.parseAndOr(ctx);
      const sep = this.peek();
      if (sep === undefined) continue;
      if (sep.t === "op" && (sep.op === ";" || sep.op === "\n")) {
        this.i++;
      } else if (sep.t === "op" && sep.op === "&") {
        this.i++;
        for (let k = start; k < this.out.length; k++) this.out[k]!.background = true;
      } else if (
        !(sep.t === "op" && sep.op === ")") && !(terminator === "}" && this.isCloseBrace())
      ) {
        throw new ShellSyntaxError(`unexpected "${tokenText(sep)}"`, sep.pos);
      }
    }
  }

  private parseAndOr(ctx: ParseCtx): void {
    this.parsePipeline(ctx);
    while (this.isOp("&&") || this.isOp("||")) {
      const op = (this.peek() as { op: string }).op;
      this.i++;
      this.skipNewlines();
      if (this.atCommandEnd()) {
        throw new ShellSyntaxError(`expected a command after "${op}"`, this.pos());
      }
      this.parsePipeline(ctx);
    }
  }

  private atCommandEnd(): boolean {
    const t = this.peek();
    return t === undefined || (t.t === "op" && t.op !== "(");
  }

  private parsePipeline(ctx: ParseCtx): void {
    const stages: number[] = [this.out.length];
    this.parseCommand(ctx);
    while (this.isOp("|")) {
      this.i++;
      this.skipNewlines();
      if (this.atCommandEnd()) {
        throw new ShellSyntaxError('expected a command after "|"', this.pos());
      }
      stages.push(this.out.length);
      this.parseCommand(ctx);
    }
    if (stages.length < 2) return;
    const id = this.nextId++;
    const depth = ctx.scope.length;
    stages.push(this.out.length);
    for (let k = 0; k + 1 < stages.length; k++) {
      const scopeId = this.nextId++;
      for (let c = stages[k]!; c < stages[k + 1]!; c++) {
        const cmd = this.out[c]!;
        cmd.pipe = { id, index: k, length: stages.length - 1 };
        cmd.scope = [...cmd.scope.slice(0, depth), scopeId, ...cmd.scope.slice(depth)];
      }
    }
  }

  private parseCommand(ctx: ParseCtx): void {
    const t = this.peek();
    if (t === undefined) throw new ShellSyntaxError("expected a command", this.endPos);
    if (t.t === "op" && t.op === "(") {
      this.i++;
      this.parseList({ scope: [...ctx.scope, this.nextId++] }, ")");
      this.i++; // ")"
      this.groupRedirects(ctx);
      return;
    }
    if (t.t === "word" && t.w.raw === "{") {
      this.i++;
      this.parseList(ctx, "}");
      this.i++; // "}"
      this.groupRedirects(ctx);
      return;
    }
    if (t.t === "op") throw new ShellSyntaxError(`unexpected "${tokenText(t)}"`, t.pos);
    this.parseSimple(ctx);
  }

  /** Redirections after `( … )` / `{ … }` become a redirect-only command. */
  private groupRedirects(ctx: ParseCtx): void {
    const cmd = emptyCommand(ctx.scope);
    while (this.peek()?.t === "redir") this.readRedirect(cmd);
    if (cmd.redirects.length > 0) this.out.push(cmd);
  }

  private readRedirect(cmd: SimpleCommand): void {
    const r = this.tokens[this.i] as Token & { t: "redir" };
    this.i++;
    const target = this.peek();
    if (target === undefined || target.t !== "word") {
      throw new ShellSyntaxError(`missing file name after "${r.op}"`, r.pos);
    }
    this.i++;
    cmd.redirects.push({ op: r.op, fd: r.fd, target: target.w, heredoc: r.heredoc });
  }

  private parseSimple(ctx: ParseCtx): void {
    const cmd = emptyCommand(ctx.scope);
    let skippedKeyword = false;
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.t === "op") break;
      if (t.t === "redir") {
        if (cmd.words[0]?.raw === "[[" && (t.op === "<" || t.op === ">")) {
          this.i++;
          pushWord(cmd, literalWord(t.op));
          continue;
        }
        this.readRedirect(cmd);
        continue;
      }
      const w = t.w;
      if (cmd.words.length === 0) {
        if (/^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(w.raw)) {
          this.i++;
          cmd.assignments.push(w.text);
          cmd.assignmentWords.push(w);
          continue;
        }
        if (cmd.assignments.length === 0 && cmd.redirects.length === 0) {
          if (KEYWORDS_SKIP.has(w.raw)) {
            this.i++;
            skippedKeyword = true;
            continue;
          }
          if (w.raw === "case" || w.raw === "esac") {
            throw new ShellSyntaxError("case statements are not supported", t.pos);
          }
          if (w.raw === "function") {
            this.i += 2; // "function name"
            if (this.isOp("(") && this.tokens[this.i + 1]?.t === "op") this.i += 2;
            this.skipNewlines();
            this.parseCommand(ctx);
            return;
          }
          if (w.raw === "{" || w.raw === "}") break;
        }
      }
      this.i++;
      pushWord(cmd, w);
      if (cmd.words.length === 1 && cmd.assignments.length === 0 && this.isOp("(")) {
        const next = this.tokens[this.i + 1];
        if (next?.t === "op" && next.op === ")") {
          // function definition: name () body
          this.i += 2;
          this.skipNewlines();
          this.parseCommand(ctx);
          return;
        }
      }
    }
    if (cmd.words.length === 0 && cmd.assignments.length === 0 && cmd.redirects.length === 0) {
      if (skippedKeyword) {
        const t = this.peek();
        if (t?.t === "word" && (t.w.raw === "{" || t.w.raw === "}")) {
          if (t.w.raw === "{") this.parseCommand(ctx);
          return;
        }
        if (t?.t === "op" && t.op === "(") this.parseCommand(ctx);
        return;
      }
      throw new ShellSyntaxError("expected a command", this.pos());
    }
    this.out.push(cmd);
  }
}

function emptyCommand(scope: number[]): SimpleCommand {
  return {
    argv: [],
    words: [],
    assignments: [],
    assignmentWords: [],
    redirects: [],
    background: false,
    pipe: null,
    scope: [...scope],
  };
}

function pushWord(cmd: SimpleCommand, w: Word): void {
  cmd.words.push(w);
  cmd.argv.push(w.text);
}

function tokenText(t: Token): string {
  if (t.t === "word") return t.w.raw;
  if (t.t === "op") return t.op === "\n" ? "newline" : t.op;
  return t.op;
}
