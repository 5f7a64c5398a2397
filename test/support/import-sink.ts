import type { ImportBatch } from '../../src/workflow';

/** The sink activity an import source hands its pages to, recording every delivery so a test can count them. */
export function importSink(delayMs = 0) {
  const deliveries: ImportBatch[] = [];
  return {
    deliveries,
    recordIds: (source: string) => deliveries.filter((batch) => batch.source === source).flatMap((batch) => batch.records.map((record) => (record as { id: string }).id)),
    activities: {
      async storeImportBatch(batch: ImportBatch): Promise<void> {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        deliveries.push(batch);
      },
    },
  };
}
