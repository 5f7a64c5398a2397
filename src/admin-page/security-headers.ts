import type { ServerResponse } from 'node:http';

/**
 * Scripts and styles come only from the page's own files (no inline code, no eval), it talks only
 * to itself, and no other site may frame it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Set on every answer, the login page and errors included. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  // Not no-referrer: under it Chromium sends `Origin: null` with the page's own form posts (login, log out).
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  // Answers describe live servers: a cached copy would be stale, and none should outlive the session.
  res.setHeader('Cache-Control', 'no-store');
}
