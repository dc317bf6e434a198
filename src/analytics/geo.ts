/**
 * Geography of a client from its address: an offline country database
 * shipped in an npm package (geoip-country: GeoLite2 Country data by MaxMind,
 * CC BY-SA 4.0), or a trusted CDN header when configured (e.g. Cloudflare's
 * `cf-ipcountry`). Only the derived codes are kept; the address is not.
 */
import { createRequire } from 'node:module';

/** ISO 3166 "user-assigned" code we use for addresses no database places (private, loopback, unknown). */
export const UNKNOWN_COUNTRY = 'ZZ';

export interface Geography {
  country: string;
  region: string | null;
}

export interface GeoOptions {
  /** Lower-case header name with an ISO country code, set by a CDN in front of us. */
  countryHeader?: string;
  /** Lower-case header name with a region/subdivision code. */
  regionHeader?: string;
}

type Lookup = (ip: string) => { country: string } | null;

let lookup: Lookup | undefined;

/** Loads the database on first use (about 8 MB, 80 ms), not at import. */
function countryLookup(): Lookup {
  if (!lookup) {
    const geoip = createRequire(import.meta.url)('geoip-country') as { lookup: Lookup };
    lookup = (ip) => geoip.lookup(ip);
  }
  return lookup;
}

const COUNTRY = /^[A-Z]{2}$/;
const REGION = /^[A-Z0-9-]{1,10}$/;

function headerValue(headers: Record<string, string | string[] | undefined>, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const value = headers[name.toLowerCase()];
  return (Array.isArray(value) ? value[0] : value)?.trim().toUpperCase();
}

export function createGeoResolver(options: GeoOptions = {}) {
  return function resolveGeography(ip: string | undefined, headers: Record<string, string | string[] | undefined> = {}): Geography {
    const fromHeader = headerValue(headers, options.countryHeader);
    const regionHeader = headerValue(headers, options.regionHeader);
    const region = regionHeader && REGION.test(regionHeader) ? regionHeader : null;
    // Cloudflare sends XX for unknown and T1 for Tor: not countries, so ask the database.
    if (fromHeader && COUNTRY.test(fromHeader) && fromHeader !== 'XX' && fromHeader !== 'T1') return { country: fromHeader, region };
    const country = ip ? countryLookup()(ip)?.country : undefined;
    return { country: country && COUNTRY.test(country) ? country : UNKNOWN_COUNTRY, region: country ? region : null };
  };
}

export type GeoResolver = ReturnType<typeof createGeoResolver>;
