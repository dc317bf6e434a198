/**
 * Calls to the admin API with the signed-in token. A 401 signs the page out
 * (the token was revoked or mistyped); other failures become RequestError
 * with the API's error code and message, for the panels to show.
 */
const TOKEN_KEY = 'socketscope.admin-token';

export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Thrown after a 401 has sent the page back to sign-in; panels ignore it. */
export class SignedOutError extends Error {
  constructor() {
    super('signed out');
    this.name = 'SignedOutError';
  }
}

let unauthorizedHandler: (message: string) => void = () => undefined;

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
  onUnauthorized(handler: (message: string) => void): void {
    unauthorizedHandler = handler;
  },
  /** The token was refused: forget it and go back to sign-in. */
  expire(message: string): void {
    sessionStorage.removeItem(TOKEN_KEY);
    unauthorizedHandler(message);
  },
};

export type Query = Record<string, string | number | undefined>;

function withQuery(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function failure(response: Response): Promise<RequestError> {
  let code = `http_${response.status}`;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not our JSON error shape (a proxy's page, say): the status says enough.
  }
  return new RequestError(response.status, code, message);
}

export async function request<T>(method: 'GET' | 'POST', path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal; token?: string } = {}): Promise<T> {
  const token = options.token ?? session.token;
  if (!token) {
    session.expire('Sign in to continue.');
    throw new SignedOutError();
  }
  const response = await fetch(withQuery(path, options.query), {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    cache: 'no-store',
  });
  if (response.status === 401 && options.token === undefined) {
    session.expire('Your session ended: the admin token was not accepted. Sign in again.');
    throw new SignedOutError();
  }
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> => request<T>('GET', path, { query, signal });
export const post = <T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> => request<T>('POST', path, { body, signal });

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * Signals for a view's repeated loads of one thing (the series of the
 * selected anomaly, the alerts after an acknowledgement): each call aborts
 * the previous load's signal, so a slower earlier answer cannot land after
 * the later one; and each is aborted with `parent` (the tab's signal).
 */
export function latestSignal(parent: AbortSignal): () => AbortSignal {
  let current: AbortController | undefined;
  return () => {
    current?.abort();
    const controller = new AbortController();
    const follow = (): void => controller.abort();
    parent.addEventListener('abort', follow, { once: true });
    controller.signal.addEventListener('abort', () => parent.removeEventListener('abort', follow), { once: true });
    if (parent.aborted) controller.abort();
    current = controller;
    return controller.signal;
  };
}
