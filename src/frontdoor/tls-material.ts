import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { CertificateFiles } from '../config/frontdoor-schema.js';
import { TlsError, TlsErrorCode as E, type TlsWarning, TlsWarningCode as W } from './tls-errors.js';

/**
 * One certificate, its key, chain and optional OCSP staple, read from PEM files and checked the
 * way an operator would check them by hand, so that a mistake is named with its fix before any
 * client sees it: the key must be the certificate's; an expired certificate or one that does not
 * cover its host's names is loaded with a warning.
 */
export interface CertificateMaterial {
  files: CertificateFiles;
  /** PEM of the key. */
  key: string;
  /** PEM of the certificate followed by its chain. */
  cert: string;
  leaf: X509Certificate;
  /** DER OCSP response to staple, when configured. */
  staple: Buffer | undefined;
  warnings: TlsWarning[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const DAY = 86_400_000;
/** A certificate closer than this to its end gets a warning. */
export const EXPIRES_SOON_DAYS = 14;
/** A staple file older than this gets a warning (OCSP responses typically live 7 days). */
export const STAPLE_OLD_DAYS = 4;

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'latin1');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'it does not exist' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new TlsError(E.FILE_UNREADABLE, `cannot read the ${what} ${file}: ${why}`, {
      file,
      cause: err,
      hint:
        e.code === 'EACCES'
          ? `Let the user wsgi-host runs as read it (for a key: chmod 600, owned by that user)`
          : "Check the path (relative paths are taken from the configuration file's folder)",
    });
  }
}

function certificatesIn(text: string, file: string, what: 'certificate' | 'chain'): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    const isKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
    const hint = isKey
      ? 'This file holds a private key: certificate and private-key are swapped'
      : /^\s*$/.test(text)
        ? 'The file is empty'
        : 'Give a PEM file (-----BEGIN CERTIFICATE-----); a DER one converts with: openssl x509 -inform der -in FILE -out FILE.pem';
    throw new TlsError(what === 'chain' ? E.BAD_CHAIN : E.BAD_CERTIFICATE, `the ${what} file ${file} holds no PEM certificate`, { file, hint });
  }
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new TlsError(what === 'chain' ? E.BAD_CHAIN : E.BAD_CERTIFICATE, `certificate ${i + 1} in ${file} cannot be parsed: ${(err as Error).message}`, {
        file,
        cause: err,
        hint: 'The file is damaged or truncated: copy it again from your certificate authority',
      });
    }
  });
}

function privateKeyIn(text: string, file: string): KeyObject {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new TlsError(E.KEY_ENCRYPTED, `the private key ${file} is encrypted with a passphrase`, {
      file,
      hint: `wsgi-host reads keys without a passphrase (protect the file instead: chmod 600). Decrypt it once: openssl pkey -in ${file} -out ${file}.plain`,
    });
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    const isCert = /-----BEGIN CERTIFICATE-----/.test(text);
    throw new TlsError(E.BAD_KEY, `the private key file ${file} holds no PEM private key`, {
      file,
      hint: isCert
        ? 'This file holds a certificate: certificate and private-key are swapped'
        : 'Give the PEM private key (-----BEGIN PRIVATE KEY-----) the certificate was issued for',
    });
  }
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new TlsError(E.BAD_KEY, `the private key ${file} cannot be read: ${(err as Error).message}`, {
      file,
      cause: err,
      hint: 'The file is damaged: use the key the certificate was issued for',
    });
  }
}

function subjectOf(c: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.subject);
  return cn ? `'${cn[1]}'` : c.subject.replace(/\n/g, ', ');
}

/** Reads and checks one certificate set. `names`: the host names it must cover (for warnings). */
export async function loadCertificate(files: CertificateFiles, options: { names?: readonly string[]; now?: number } = {}): Promise<CertificateMaterial> {
  const now = options.now ?? Date.now();
  const [certText, keyText, chainText, staple] = await Promise.all([
    readText(files.certificate, 'certificate'),
    readText(files.privateKey, 'private key'),
    files.certificateChain === undefined ? Promise.resolve(undefined) : readText(files.certificateChain, 'certificate chain'),
    files.ocspStaple === undefined ? Promise.resolve(undefined) : readStaple(files.ocspStaple),
  ]);
  const inCert = certificatesIn(certText, files.certificate, 'certificate');
  const leaf = inCert[0] as X509Certificate;
  const chain = [...inCert.slice(1), ...(chainText === undefined ? [] : certificatesIn(chainText, files.certificateChain as string, 'chain'))];
  const key = privateKeyIn(keyText, files.privateKey);
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsError(E.KEY_MISMATCH, `the private key ${files.privateKey} is not the key of the certificate ${files.certificate} (${subjectOf(leaf)})`, {
      file: files.privateKey,
      hint: `Give the key this certificate was issued for; these two commands print the same public key for a matching pair: openssl x509 -noout -pubkey -in ${files.certificate}; openssl pkey -pubout -in ${files.privateKey}`,
    });
  }
  const warnings: TlsWarning[] = [];
  const warn = (code: string, message: string, file = files.certificate): void => void warnings.push({ code, message, file });
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  if (to < now) warn(W.EXPIRED, `the certificate ${files.certificate} (${subjectOf(leaf)}) expired on ${leaf.validTo}: clients refuse it; renew it and reload`);
  else if (from > now)
    warn(W.NOT_YET_VALID, `the certificate ${files.certificate} (${subjectOf(leaf)}) is valid only from ${leaf.validFrom}: check this machine's clock`);
  else if (to - now < EXPIRES_SOON_DAYS * DAY)
    warn(W.EXPIRES_SOON, `the certificate ${files.certificate} (${subjectOf(leaf)}) expires on ${leaf.validTo}: renew it and reload`);
  for (const name of options.names ?? []) {
    const probe = name.startsWith('*.') ? `wsgi-host-check.${name.slice(2)}` : name;
    const covered = /^[\d.]+$|:/.test(name) ? leaf.checkIP(name) !== undefined : leaf.checkHost(probe, { wildcards: true }) !== undefined;
    if (!covered) {
      warn(
        W.NAME_MISMATCH,
        `the certificate ${files.certificate} (${subjectOf(leaf)}) does not cover '${name}': clients that ask for it will refuse the connection`,
      );
    }
  }
  const issuer = chain[0];
  if (issuer !== undefined && !leaf.checkIssued(issuer)) {
    warn(
      W.CHAIN_ORDER,
      `the first chain certificate (${subjectOf(issuer)}) did not issue ${subjectOf(leaf)}: clients may not build the chain`,
      files.certificateChain ?? files.certificate,
    );
  }
  for (const c of chain) {
    if (Date.parse(c.validTo) < now)
      warn(W.EXPIRED, `the chain certificate ${subjectOf(c)} expired on ${c.validTo}`, files.certificateChain ?? files.certificate);
  }
  if (staple !== undefined && files.ocspStaple !== undefined && now - staple.mtimeMs > STAPLE_OLD_DAYS * DAY) {
    warn(
      W.STAPLE_OLD,
      `the OCSP staple ${files.ocspStaple} is ${Math.floor((now - staple.mtimeMs) / DAY)} days old: refresh it (openssl ocsp ... -respout) and reload`,
      files.ocspStaple,
    );
  }
  const pem = [leaf, ...chain].map((c) => c.toString().trim()).join('\n');
  return { files, key: keyText, cert: `${pem}\n`, leaf, staple: staple?.bytes, warnings };
}

async function readStaple(file: string): Promise<{ bytes: Buffer; mtimeMs: number }> {
  let bytes: Buffer;
  let mtimeMs: number;
  try {
    [bytes, mtimeMs] = await Promise.all([readFile(file), stat(file).then((s) => s.mtimeMs)]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TlsError(E.FILE_UNREADABLE, `cannot read the OCSP staple ${file}: ${e.code === 'ENOENT' ? 'it does not exist' : e.message}`, {
      file,
      cause: err,
      hint: 'Fetch it first (openssl ocsp -issuer CHAIN -cert CERT -url URL -respout FILE), or remove ocsp-staple',
    });
  }
  // A DER OCSPResponse is an ASN.1 SEQUENCE: 0x30, then a length.
  if (bytes.length < 8 || bytes[0] !== 0x30) {
    throw new TlsError(E.BAD_STAPLE, `the OCSP staple ${file} is not a DER OCSP response`, {
      file,
      hint: 'Write it with openssl ocsp ... -respout FILE (DER, not the text output)',
    });
  }
  return { bytes, mtimeMs };
}
