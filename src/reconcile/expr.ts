// A rule written once, run two ways: rendered into the diff's set-based SQL, and evaluated in JS for
// one level (bundles, a single event). The evaluator follows SQL's NULL logic, so both agree.

export type Value = number | string | boolean | null;

export type Expr =
  | { kind: 'ref'; name: string }
  | { kind: 'lit'; value: number | string | null }
  | { kind: 'arith'; op: '+' | '-'; left: Expr; right: Expr }
  | { kind: 'compare'; op: '<' | '>' | '=' | '<>'; left: Expr; right: Expr }
  | { kind: 'max0'; arg: Expr }
  | { kind: 'logic'; op: 'AND' | 'OR'; args: Expr[] }
  | { kind: 'not'; arg: Expr }
  | { kind: 'null'; arg: Expr; negate: boolean }
  | { kind: 'coalesce'; args: Expr[] }
  | { kind: 'case'; whens: [Expr, Expr][]; otherwise: Expr };

type Operand = Expr | number | string | null;
const of = (x: Operand): Expr => (x !== null && typeof x === 'object' ? x : { kind: 'lit', value: x });

export const ref = (name: string): Expr => ({ kind: 'ref', name });
export const add = (left: Operand, right: Operand): Expr => ({ kind: 'arith', op: '+', left: of(left), right: of(right) });
export const sub = (left: Operand, right: Operand): Expr => ({ kind: 'arith', op: '-', left: of(left), right: of(right) });
export const lt = (left: Operand, right: Operand): Expr => ({ kind: 'compare', op: '<', left: of(left), right: of(right) });
export const gt = (left: Operand, right: Operand): Expr => ({ kind: 'compare', op: '>', left: of(left), right: of(right) });
export const eq = (left: Operand, right: Operand): Expr => ({ kind: 'compare', op: '=', left: of(left), right: of(right) });
export const ne = (left: Operand, right: Operand): Expr => ({ kind: 'compare', op: '<>', left: of(left), right: of(right) });
/** max(0, x): SQLite's two-argument MAX. */
export const max0 = (arg: Operand): Expr => ({ kind: 'max0', arg: of(arg) });
export const and = (...args: Expr[]): Expr => ({ kind: 'logic', op: 'AND', args });
export const or = (...args: Expr[]): Expr => ({ kind: 'logic', op: 'OR', args });
export const not = (arg: Expr): Expr => ({ kind: 'not', arg });
export const isNull = (arg: Operand): Expr => ({ kind: 'null', arg: of(arg), negate: false });
export const notNull = (arg: Operand): Expr => ({ kind: 'null', arg: of(arg), negate: true });
export const coalesce = (...args: Operand[]): Expr => ({ kind: 'coalesce', args: args.map(of) });
export const cases = (whens: [Expr, Operand][], otherwise: Operand): Expr => ({
  kind: 'case',
  whens: whens.map(([w, t]) => [w, of(t)]),
  otherwise: of(otherwise),
});

/**
 * The expression as SQL. `bind` names the SQL for a ref (a column, a parameter, another rendered
 * expression); an unbound ref is a column of that name.
 */
export function toSql(expr: Expr, bind: Readonly<Record<string, string>> = {}): string {
  const r = (e: Expr) => toSql(e, bind);
  switch (expr.kind) {
    case 'ref': {
      const sql = bind[expr.name] ?? expr.name;
      return /^[@\w.]+$/.test(sql) ? sql : `(${sql})`;
    }
    case 'lit':
      return expr.value === null ? 'NULL' : typeof expr.value === 'number' ? String(expr.value) : `'${expr.value.replaceAll("'", "''")}'`;
    case 'arith':
    case 'compare':
      return `(${r(expr.left)} ${expr.op} ${r(expr.right)})`;
    case 'max0':
      return `MAX(${r(expr.arg)}, 0)`;
    case 'logic':
      return `(${expr.args.map(r).join(` ${expr.op} `)})`;
    case 'not':
      return `NOT ${r(expr.arg)}`;
    case 'null':
      return `(${r(expr.arg)} IS ${expr.negate ? 'NOT ' : ''}NULL)`;
    case 'coalesce':
      return `COALESCE(${expr.args.map(r).join(', ')})`;
    case 'case':
      return `CASE ${expr.whens.map(([w, t]) => `WHEN ${r(w)} THEN ${r(t)}`).join(' ')} ELSE ${r(expr.otherwise)} END`;
  }
}

/** The expression's value for one row, with SQL's NULL logic (a comparison with NULL is NULL, not false). */
export function evaluate(expr: Expr, row: object): Value {
  const v = (e: Expr) => evaluate(e, row);
  switch (expr.kind) {
    case 'ref': {
      const value = (row as Record<string, Value | undefined>)[expr.name];
      if (value === undefined) throw new Error(`rule input ${expr.name} is missing`);
      return value;
    }
    case 'lit':
      return expr.value;
    case 'arith': {
      const [a, b] = [v(expr.left), v(expr.right)];
      if (a === null || b === null) return null;
      return expr.op === '+' ? Number(a) + Number(b) : Number(a) - Number(b);
    }
    case 'compare': {
      const [a, b] = [v(expr.left), v(expr.right)];
      if (a === null || b === null) return null;
      const [x, y] = typeof a === 'boolean' || typeof b === 'boolean' ? [Number(a), Number(b)] : [a, b];
      if (expr.op === '<') return x < y;
      if (expr.op === '>') return x > y;
      return expr.op === '=' ? x === y : x !== y;
    }
    case 'max0': {
      const a = v(expr.arg);
      return a === null ? null : Math.max(Number(a), 0);
    }
    case 'logic': {
      const values = expr.args.map(v);
      const decisive = expr.op === 'AND' ? false : true;
      if (values.some((x) => x !== null && Boolean(x) === decisive)) return decisive;
      return values.includes(null) ? null : !decisive;
    }
    case 'not': {
      const a = v(expr.arg);
      return a === null ? null : !a;
    }
    case 'null':
      return (v(expr.arg) === null) !== expr.negate;
    case 'coalesce':
      for (const arg of expr.args) {
        const value = v(arg);
        if (value !== null) return value;
      }
      return null;
    case 'case':
      for (const [when, then] of expr.whens) if (v(when) === true) return v(then);
      return v(expr.otherwise);
  }
}
