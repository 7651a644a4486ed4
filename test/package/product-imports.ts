/**
 * How the package tests read the product's imports: the specifiers a source file names, what it
 * loads once compiled, and the graph of modules an entry point loads.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Every module specifier a source file imports: static imports and re-exports, side-effect imports
 * and dynamic `import('…')` with a literal. Comments are removed first so prose never counts.
 */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) if (match[1]) specifiers.push(match[1]);
  }
  return specifiers;
}

/** What a module loads at run time once compiled. */
export function runtimeImports(source: string): string[] {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2023,
      verbatimModuleSyntax: true,
    },
  });
  return importSpecifiers(outputText);
}

export interface ModuleGraph {
  files: string[];
  /** Every package import, as `importer → specifier`. */
  packages: { importer: string; specifier: string }[];
}

export function moduleGraph(entry: string): ModuleGraph {
  const seen = new Set<string>();
  const packages: ModuleGraph['packages'] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of runtimeImports(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else packages.push({ importer: relative(ROOT, file), specifier });
    }
  }
  return { files: [...seen].map((file) => relative(ROOT, file)), packages };
}
