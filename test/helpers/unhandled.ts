// Fails loudly if anything in the engine leaves a rejected promise unhandled.
export const unhandledRejections: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandledRejections.push(reason);
});
