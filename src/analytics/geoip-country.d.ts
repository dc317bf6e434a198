// geoip-country ships no types; this is the part of its API we use.
declare module 'geoip-country' {
  interface CountryRecord {
    /** ISO 3166-1 alpha-2. */
    country: string;
    name?: string;
    continent?: string;
  }
  const geoip: { lookup(ip: string): CountryRecord | null };
  export default geoip;
}
