/**
 * The dynamic providers, as Pulumi serializes them into state.
 *
 * `pulumi.dynamic.Resource` serializes the provider object with its closure and the host later
 * evaluates that text with `require-from-string` (filename ""), so a relative `require` resolves
 * against the process cwd — the project directory, where Pulumi starts the plugin
 * (docs/CONTRACTS.md "Dynamic provider module loading"). Each method therefore only loads the
 * compiled lifecycle code from dist/ and delegates. That keeps the text in state a few hundred
 * bytes and free of classes, native modules and SDK objects; and because `delete` runs the text
 * stored in state, the same small trampoline works for every version of the code behind it.
 *
 * This module must stay free of runtime imports: anything a method referenced would be
 * serialized by value into every resource's state.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as Lifecycles from "./lifecycles";

/** Loads the compiled lifecycles, cwd-relative (run `npm run build` before `pulumi up`). */
function lifecycles(): typeof Lifecycles {
  return require("./dist/migrate/providers/lifecycles") as typeof Lifecycles;
}

type LifecycleName = keyof typeof Lifecycles;
type Methods = Required<Pick<pulumi.dynamic.ResourceProvider, "check" | "diff" | "create" | "update" | "delete" | "read">>;

/**
 * The trampoline for one lifecycle: every method loads the compiled lifecycle and delegates.
 * Only `name` (a string) and `lifecycles` are captured, so the serialized text stays small.
 * `read` is present only where the lifecycle implements refresh; elsewhere Pulumi's default
 * (state as recorded) applies.
 */
function trampoline(name: LifecycleName, opts: { read?: boolean } = {}): pulumi.dynamic.ResourceProvider {
  const target = (): Methods => lifecycles()[name] as unknown as Methods;
  const provider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
      return target().check(olds, news);
    },
    async diff(id, olds, news) {
      return target().diff(id, olds, news);
    },
    async create(inputs) {
      return target().create(inputs);
    },
    async update(id, olds, news) {
      return target().update(id, olds, news);
    },
    // The rollback guard's delete may refuse (ROLLBACK_UNSAFE) and must propagate, stopping the
    // destroy; every lifecycle scrubs the URL from its errors itself.
    async delete(id, props) {
      return target().delete(id, props);
    },
  };
  if (opts.read) {
    provider.read = async (id, props) => target().read(id, props ?? {});
  }
  return provider;
}

export const schemaProvider = trampoline("schemaLifecycle");
export const dataProvider = trampoline("dataLifecycle");
export const indexesProvider = trampoline("indexesLifecycle");
// Refresh re-verifies, so a target changed behind the stack's back is caught (see its diff).
export const verificationProvider = trampoline("verificationLifecycle", { read: true });
export const captureProvider = trampoline("captureLifecycle");
export const rollbackGuardProvider = trampoline("rollbackGuardLifecycle");
