// Validates JSON documents against a JSON Schema (draft-07) with Ajv, formats included, the
// schema's Unicode property escapes (\p{L}) honoured: node validate_schema.mjs SCHEMA DOC...
// Exit 0 when every document is valid; 1 with each error's instance path and message otherwise.
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [schemaFile, ...documents] = process.argv.slice(2);
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
let failed = false;
for (const file of documents) {
  if (validate(JSON.parse(readFileSync(file, "utf8")))) {
    console.log(`valid: ${file}`);
    continue;
  }
  failed = true;
  for (const error of validate.errors)
    console.log(`invalid: ${file}: ${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
}
process.exit(failed ? 1 : 0);
