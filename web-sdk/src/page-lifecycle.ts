/** Calls `onHide` when the page is hidden or unloaded: the last moment a
 * browser reliably runs code for a tab (pagehide alone misses mobile tab
 * switches; visibilitychange alone misses some unloads). */
export function onPageHide(onHide: () => void): () => void {
  if (typeof addEventListener !== 'function' || typeof document === 'undefined') return () => {};
  const visibility = (): void => {
    if (document.visibilityState === 'hidden') onHide();
  };
  addEventListener('pagehide', onHide);
  document.addEventListener('visibilitychange', visibility);
  return () => {
    removeEventListener('pagehide', onHide);
    document.removeEventListener('visibilitychange', visibility);
  };
}
