// The events between the dashboard's components: plain CustomEvents on one EventTarget.
//
// A listener may return a promise (a view loading its part of a project); `emit` returns a
// promise of all of them, so the one who announces something can wait until it is done
// (the page is "ready" only once the opened project has loaded). A listener's failure is
// reported like an uncaught error and never rejects that promise.

const report = (err) => (globalThis.reportError ?? console.error)(err);

export function createBus(target = new EventTarget()) {
  // The promises returned by the listeners of each event being dispatched.
  const pending = new WeakMap();
  return {
    /** Calls `listener(detail)` on every `type` event. */
    on(type, listener) {
      target.addEventListener(type, (event) => {
        const result = listener(event.detail);
        if (result && typeof result.then === 'function') {
          pending.get(event)?.push(Promise.resolve(result).catch(report));
        }
      });
    },
    /** Announces `type` with `detail`; resolves when every listener's work has settled. */
    emit(type, detail = {}) {
      const event = new CustomEvent(type, { detail });
      const work = [];
      pending.set(event, work);
      target.dispatchEvent(event);
      return Promise.all(work).then(() => undefined);
    },
  };
}
