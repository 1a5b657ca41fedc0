// Validates the sis OpenAPI document with @seriousme/openapi-schema-validator
// and, when given, REST answers against their route's response schema (Ajv,
// JSON Schema 2020-12 as OpenAPI 3.1 uses it).
//   node validate.mjs DOC.json [ANSWERS.jsonl]
// ANSWERS.jsonl: one {"method", "route" (the document's path), "status",
// "content_type", "body"} per line. Prints one line per problem, then
// "N answers checked"; exit status 1 when anything is wrong.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [docFile, answersFile] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docFile, "utf8"));
const validator = new Validator();
const res = await validator.validate(doc);
if (!res.valid) {
  console.log("the document is not valid OpenAPI:", JSON.stringify(res.errors, null, 1));
  process.exit(1);
}
console.log(`the document is valid OpenAPI ${validator.version} (${Object.keys(doc.paths).length} paths)`);
if (!answersFile) process.exit(0);

const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
ajv.addSchema({ $id: "sis", components: doc.components }, "sis");
const compiled = new Map();
function validatorFor(schema) {
  const text = JSON.stringify(schema).replaceAll('"#/components/', '"sis#/components/');
  if (!compiled.has(text)) compiled.set(text, ajv.compile(JSON.parse(text)));
  return compiled.get(text);
}

let problems = 0, checked = 0;
const lines = readFileSync(answersFile, "utf8").split("\n").filter((l) => l.trim());
for (const line of lines) {
  const a = JSON.parse(line);
  const where = `${a.method} ${a.route} ${a.status}`;
  const op = doc.paths[a.route]?.[a.method.toLowerCase()];
  if (!op) { console.log(`${where}: no such operation in the document`); problems++; continue; }
  const r = op.responses[String(a.status)] ?? op.responses.default;
  if (!r) { console.log(`${where}: status not documented`); problems++; continue; }
  checked++;
  const ctype = (a.content_type || "").split(";")[0].trim();
  if (!r.content) {
    if (a.body !== null && a.body !== "") { console.log(`${where}: a body where none is documented`); problems++; }
    continue;
  }
  const media = r.content[ctype];
  if (!media) { console.log(`${where}: content type ${ctype} not documented`); problems++; continue; }
  const check = validatorFor(media.schema);
  if (!check(a.body)) {
    console.log(`${where}: ${ajv.errorsText(check.errors)}`);
    problems++;
  }
}
console.log(`${checked} answers checked, ${problems} problems`);
process.exit(problems ? 1 : 0);
