// node validate.mjs <openapi.json>: strict validation against the official OpenAPI 3.1 JSON schema
// (the schema ships inside the package, so this runs without network). Exit 0 and "OK: …" when valid.
import { readFile } from "node:fs/promises";
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs <openapi.json>");
  process.exit(2);
}
const document = JSON.parse(await readFile(file, "utf8"));
const validator = new Validator();
const result = await validator.validate(document);
if (!result.valid) {
  console.error(`INVALID (${validator.version}):`);
  console.error(JSON.stringify(result.errors, null, 2).slice(0, 20000));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.error(`expected an OpenAPI 3.1 document, got ${validator.version}`);
  process.exit(1);
}
console.log(`OK: OpenAPI ${document.openapi}, ${Object.keys(document.paths ?? {}).length} paths`);
