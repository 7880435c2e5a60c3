// AdamW (torch.optim.AdamW semantics), gradient clipping (torch clip_grad_norm_), LR schedules (openpi).
export * from './errors.js';
export * from './adamw.js';
export * from './clip.js';
export * from './schedule.js';
