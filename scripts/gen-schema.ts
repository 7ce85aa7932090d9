// Writes schema/invrecon.config.schema.json from the zod definition (run: npm run schema).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from '../src/config/json-schema.js';
import { packageRoot } from '../src/paths.js';

writeFileSync(join(packageRoot, 'schema', 'invrecon.config.schema.json'), JSON.stringify(configJsonSchema(), null, 2) + '\n');
