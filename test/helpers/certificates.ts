import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface TestCertificate {
  certificate: string;
  privateKey: string;
}

/**
 * A self-signed certificate made by `openssl` in `dir` (P-256, fast): CN is the first name, every
 * name a subjectAltName (DNS, or IP for addresses). `days: -1` makes one that expired yesterday.
 */
export function makeCertificate(dir: string, file: string, names: string[], options: { days?: number } = {}): TestCertificate {
  const certificate = join(dir, `${file}.crt`);
  const privateKey = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  };
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', privateKey]);
  run(['req', '-new', '-key', privateKey, '-subj', `/CN=${names[0] ?? 'localhost'}`, '-out', csr]);
  const ext = join(dir, `${file}.ext`);
  execFileSync('sh', ['-c', `printf 'subjectAltName=${san}\\n' > '${ext}'`]);
  run(['x509', '-req', '-in', csr, '-signkey', privateKey, '-days', String(options.days ?? 30), '-extfile', ext, '-out', certificate]);
  return { certificate, privateKey };
}

/** Whether openssl can be run here. */
export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
