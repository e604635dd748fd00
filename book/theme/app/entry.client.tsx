import { RemixBrowser } from '@remix-run/react';
import { startTransition, StrictMode } from 'react';
import { hydrateRoot } from 'react-dom/client';

// Static hosts (GitHub Pages, python -m http.server) answer /page with the folder
// /page/ (its index.html). Remix reloads whenever the address differs from the URL the
// page was rendered for, so give the address its rendered form back before hydrating.
const rendered = (window as unknown as { __remixContext?: { url?: string } }).__remixContext
  ?.url;
if (rendered && window.location.pathname === `${rendered}/`) {
  window.history.replaceState(
    window.history.state,
    '',
    rendered + window.location.search + window.location.hash,
  );
}

function hydrate() {
  startTransition(() => {
    hydrateRoot(
      document,
      <StrictMode>
        <RemixBrowser />
      </StrictMode>,
    );
  });
}

if (window.requestIdleCallback) {
  window.requestIdleCallback(hydrate);
} else {
  // Safari doesn't support requestIdleCallback
  // https://caniuse.com/requestidlecallback
  window.setTimeout(hydrate, 1);
}
