/**
 * Pulumi entry point (Pulumi.yaml `main: index.ts`). It sits at the project root so the program,
 * and the dynamic providers Pulumi starts beside it, run with the project root as cwd.
 */
import outputs = require("./infra");
export = outputs;
