import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema editors use for invrecon.config.json, from the same zod definition that validates it. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'invrecon config',
  };
}
