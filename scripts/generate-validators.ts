/**
 * `npm run generate:validator`: rewrites the ahead-of-time compiled validators
 * (src/spec/validator-codegen.ts says what and why) from schemas/environment.schema.json and
 * the config schemas of the built-in deployers.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { builtInConfigSchemas } from '../src/deployers/registry.js';
import {
  GENERATED_CONFIG_VALIDATORS_DIR,
  GENERATED_VALIDATOR_URL,
  generateConfigValidatorModules,
  generateValidatorModule,
} from '../src/spec/validator-codegen.js';

const schemaUrl = new URL('../schemas/environment.schema.json', import.meta.url);
writeFileSync(GENERATED_VALIDATOR_URL, generateValidatorModule(readFileSync(schemaUrl, 'utf8')));
process.stdout.write(`wrote ${fileURLToPath(GENERATED_VALIDATOR_URL)}\n`);

const dir = fileURLToPath(GENERATED_CONFIG_VALIDATORS_DIR);
mkdirSync(dir, { recursive: true });
for (const old of readdirSync(dir)) if (old.endsWith('.generated.ts')) rmSync(`${dir}/${old}`);
for (const [name, text] of generateConfigValidatorModules(await builtInConfigSchemas()))
  writeFileSync(`${dir}/${name}`, text);
process.stdout.write(`wrote ${dir}*.generated.ts\n`);
