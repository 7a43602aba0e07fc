// The public types: test/types/*.ts compiled with the project's compiler options through
// the local TypeScript (tap runs TypeScript without checking types). A fixture passes
// when it has no diagnostics: its assignments hold and its @ts-expect-error lines fail.
import * as fs from 'fs';
import * as path from 'path';
import t from 'tap';
import * as ts from 'typescript';

const root = path.join(__dirname, '..');
const dir = path.join(__dirname, 'types');

function options(): ts.CompilerOptions {
  const file = path.join(root, 'tsconfig.json');
  const { config } = ts.readConfigFile(file, ts.sys.readFile);
  return { ...ts.parseJsonConfigFileContent(config, ts.sys, root).options, noEmit: true };
}

const show = (ds: readonly ts.Diagnostic[]) =>
  ds.map((d) => `${d.file ? `${path.relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);

const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
const program = ts.createProgram(fixtures, options());

t.test('fixtures compile without diagnostics', async (t) => {
  t.ok(fixtures.length > 0, 'fixtures found');
  for (const f of fixtures) t.same(show(ts.getPreEmitDiagnostics(program, program.getSourceFile(f))), [], path.relative(root, f));
});

// The harness must see a wrong type: the same options, a fixture with one error.
t.test('a wrong type is reported', async (t) => {
  const bad = path.join(dir, 'bad.ts');
  const host = ts.createCompilerHost(program.getCompilerOptions());
  const read = host.getSourceFile;
  host.getSourceFile = (name, ...rest) =>
    name === bad
      ? ts.createSourceFile(name, "import { attentionSync, Tensor } from '../../lib';\ndeclare const q: Tensor;\nexport const x: Tensor = attentionSync(q, q, q, { returnLse: true });\n", ts.ScriptTarget.ES2022)
      : read(name, ...rest);
  const p = ts.createProgram([bad], program.getCompilerOptions(), host, program);
  t.match(show(ts.getPreEmitDiagnostics(p, p.getSourceFile(bad))), [/^test\/types\/bad\.ts:3: Type 'AttentionWithLse' .*'Tensor'/]);
});
