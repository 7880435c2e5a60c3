// Demo step: torch .pt -> safetensors (waits for the .pt reader).
export async function demoTorchConvert(_work: string, _fx: (p: string) => string, _check: (ok: boolean, what: string) => void): Promise<void> {
  console.log('convert  (torch .pt reader not available yet: step skipped)');
}
