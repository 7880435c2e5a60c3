// AdamW, gradient clipping, LR schedules.
export {};
