import { vi } from 'vitest';

/** One metric of an EMF document: its name, unit, and value (a list when recorded more than once). */
export interface EmfMetric {
  readonly name: string;
  readonly unit: string | undefined;
  readonly value: number | number[];
  readonly namespace: string;
  /** The document's dimensions: name → value (the `service` default included). */
  readonly dimensions: Readonly<Record<string, string>>;
}

interface EmfDocument {
  readonly _aws: {
    readonly CloudWatchMetrics: {
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: { Name: string; Unit?: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/**
 * Runs `act` and returns every JSON line printed through `console` meanwhile: Powertools Logger's
 * log lines and Metrics' EMF documents both print that way.
 */
export async function jsonPrintedBy(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const keep = (text: unknown) => {
    if (typeof text === 'string' && text.trimStart().startsWith('{')) lines.push(JSON.parse(text));
  };
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation(keep),
  );
  try {
    await act();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

/** Whether a printed JSON line is an EMF document rather than a log line. */
export const isEmf = (line: Record<string, unknown>): line is EmfDocument => line._aws !== undefined;

/**
 * Runs `act` and returns every metric of the EMF documents Powertools Metrics printed meanwhile,
 * one entry per metric and document, as CloudWatch would read them. The Metrics instance must be
 * enabled (`POWERTOOLS_METRICS_DISABLED=false` before it is created).
 */
export async function emfPrintedBy(act: () => Promise<unknown>): Promise<EmfMetric[]> {
  const documents = (await jsonPrintedBy(act)).filter(isEmf);
  return documents.flatMap((document) =>
    document._aws.CloudWatchMetrics.flatMap((directive) => {
      const dimensionNames = [...new Set(directive.Dimensions.flat())];
      const dimensions = Object.fromEntries(dimensionNames.map((name) => [name, String(document[name])]));
      return directive.Metrics.map((metric) => ({
        name: metric.Name,
        unit: metric.Unit,
        value: document[metric.Name] as number | number[],
        namespace: directive.Namespace,
        dimensions,
      }));
    }),
  );
}

/** The metrics of one name, from every document. */
export function metricsNamed(all: readonly EmfMetric[], name: string): EmfMetric[] {
  return all.filter((metric) => metric.name === name);
}
