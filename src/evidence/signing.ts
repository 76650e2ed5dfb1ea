import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError } from '../lib/user-error.js';
import { sha256Hex } from './custody.js';

/**
 * manifest.sig is the raw 64-byte Ed25519 signature over manifest.json, so it
 * can also be checked without goldhour:
 *   openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in manifest.json -sigfile manifest.sig
 */
export interface Signer {
  key: KeyObject;
  publicKeySha256: string;
}

function readKeyFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new UserError(`${what} ${file}: cannot be read`);
  }
}

export function loadSigner(file: string): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey(readKeyFile(file, '--sign'));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`--sign ${file}: not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError(`--sign ${file}: an Ed25519 key is needed, this is ${key.asymmetricKeyType}`);
  return { key, publicKeySha256: publicKeyFingerprint(createPublicKey(key)) };
}

export function loadPublicKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readKeyFile(file, '--pubkey'));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`--pubkey ${file}: not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError(`--pubkey ${file}: an Ed25519 key is needed, this is ${key.asymmetricKeyType}`);
  return key;
}

export function publicKeyFingerprint(pub: KeyObject): string {
  return sha256Hex(pub.export({ type: 'spki', format: 'der' }));
}

export function signManifest(signer: Signer, manifest: Buffer): Buffer {
  return sign(null, manifest, signer.key);
}

export function checkSignature(pub: KeyObject, manifest: Buffer, sig: Buffer): boolean {
  try {
    return sig.length === 64 && verify(null, manifest, pub, sig);
  } catch {
    return false;
  }
}
