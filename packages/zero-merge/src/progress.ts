// Progress events the library emits while it gathers and writes tensors.

export interface ProgressEvent {
  /** 'read': a tensor was gathered from the rank files; 'done': everything is written. */
  phase: 'read' | 'done';
  tensors: number;
  totalTensors: number;
  /** Output bytes so far / in all. */
  bytes: number;
  totalBytes: number;
  name: string;
}

export type ProgressListener = (e: ProgressEvent) => void;
