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

export const schemaProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return lifecycles().schemaLifecycle.check(olds, news);
  },
  async diff(id, olds, news) {
    return lifecycles().schemaLifecycle.diff(id, olds, news);
  },
  async create(inputs) {
    return lifecycles().schemaLifecycle.create(inputs);
  },
  async update(id, olds, news) {
    return lifecycles().schemaLifecycle.update(id, olds, news);
  },
  async delete(id, props) {
    return lifecycles().schemaLifecycle.delete(id, props);
  },
};

export const dataProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return lifecycles().dataLifecycle.check(olds, news);
  },
  async diff(id, olds, news) {
    return lifecycles().dataLifecycle.diff(id, olds, news);
  },
  async create(inputs) {
    return lifecycles().dataLifecycle.create(inputs);
  },
  async update(id, olds, news) {
    return lifecycles().dataLifecycle.update(id, olds, news);
  },
  async delete(id, props) {
    return lifecycles().dataLifecycle.delete(id, props);
  },
};

export const indexesProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return lifecycles().indexesLifecycle.check(olds, news);
  },
  async diff(id, olds, news) {
    return lifecycles().indexesLifecycle.diff(id, olds, news);
  },
  async create(inputs) {
    return lifecycles().indexesLifecycle.create(inputs);
  },
  async update(id, olds, news) {
    return lifecycles().indexesLifecycle.update(id, olds, news);
  },
  async delete(id, props) {
    return lifecycles().indexesLifecycle.delete(id, props);
  },
};

export const verificationProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return lifecycles().verificationLifecycle.check(olds, news);
  },
  async diff(id, olds, news) {
    return lifecycles().verificationLifecycle.diff(id, olds, news);
  },
  async create(inputs) {
    return lifecycles().verificationLifecycle.create(inputs);
  },
  async update(id, olds, news) {
    return lifecycles().verificationLifecycle.update(id, olds, news);
  },
  // Refresh re-verifies, so a target changed behind the stack's back is caught (see diff).
  async read(id, props) {
    return lifecycles().verificationLifecycle.read(id, props ?? {});
  },
  async delete(id, props) {
    return lifecycles().verificationLifecycle.delete(id, props);
  },
};

export const captureProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return lifecycles().captureLifecycle.check(olds, news);
  },
  async diff(id, olds, news) {
    return lifecycles().captureLifecycle.diff(id, olds, news);
  },
  async create(inputs) {
    return lifecycles().captureLifecycle.create(inputs);
  },
  async update(id, olds, news) {
    return lifecycles().captureLifecycle.update(id, olds, news);
  },
  async delete(id, props) {
    return lifecycles().captureLifecycle.delete(id, props);
  },
};

export const rollbackGuardProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return lifecycles().rollbackGuardLifecycle.check(olds, news);
  },
  async diff(id, olds, news) {
    return lifecycles().rollbackGuardLifecycle.diff(id, olds, news);
  },
  async create(inputs) {
    return lifecycles().rollbackGuardLifecycle.create(inputs);
  },
  async update(id, olds, news) {
    return lifecycles().rollbackGuardLifecycle.update(id, olds, news);
  },
  // No guarded() here: this text is serialized into state and must stay import-free; the
  // lifecycle scrubs the URL and a ROLLBACK_UNSAFE refusal propagates, stopping the destroy.
  async delete(id, props) {
    return lifecycles().rollbackGuardLifecycle.delete(id, props);
  },
};
