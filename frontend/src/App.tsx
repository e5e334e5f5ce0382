import { lazy, Suspense, useEffect, useRef } from 'react';
import type { ComponentType, LazyExoticComponent } from 'react';
import { useQuery } from 'urql';
import { Link, useRouter } from './lib/router';
import { ViewerContext, ViewerDocument, isAdmin } from './lib/viewer';
import type { Viewer } from './lib/viewer';
import { ErrorMessage, Loading } from './components/Status';
import { hasCode } from './lib/errors';
import { SignOutButton } from './components/SignOutButton';
import Welcome from './routes/welcome/Welcome';

// Every page but the welcome page is its own chunk, so the first visit loads
// only the shell (see `npm run size`).
const SignIn = lazy(() => import('./routes/signin/SignIn'));
const Board = lazy(() => import('./routes/board/Board'));
const Digits = lazy(() => import('./routes/digits/Digits'));
const Models = lazy(() => import('./routes/models/Models'));
const History = lazy(() => import('./routes/history/History'));
const Settings = lazy(() => import('./routes/settings/Settings'));
const Admin = lazy(() => import('./routes/admin/Admin'));
const Playground = lazy(() => import('./routes/playground/Playground'));

interface Route {
  path: string;
  title: string;
  page: ComponentType | LazyExoticComponent<ComponentType>;
  /** auth: the page needs a signed-in user. */
  auth?: boolean;
  nav?: boolean;
  admin?: boolean;
}

export const routes: Route[] = [
  { path: '/', title: 'Welcome', page: Welcome },
  { path: '/signin', title: 'Sign in', page: SignIn },
  { path: '/board', title: 'Tasks', page: Board, auth: true, nav: true },
  { path: '/digits', title: 'Digits', page: Digits, auth: true, nav: true },
  { path: '/models', title: 'Models', page: Models, auth: true, nav: true },
  { path: '/history', title: 'History', page: History, auth: true, nav: true },
  { path: '/settings', title: 'Settings', page: Settings, auth: true, nav: true },
  { path: '/admin', title: 'Admin', page: Admin, auth: true, nav: true, admin: true },
  { path: '/playground', title: 'Playground', page: Playground, auth: true, nav: true },
];

export default function App() {
  const [{ data, fetching, error }] = useQuery({ query: ViewerDocument, requestPolicy: 'cache-first' });
  const viewer = data?.viewer ?? null;
  // An anonymous visitor is not an error: the welcome and sign-in pages work without a session.
  const failed = error && !data && !hasCode(error, 'UNAUTHENTICATED');
  return (
    <ViewerContext value={viewer}>
      <a className="skip-link" href="#main">Skip to content</a>
      <Header viewer={viewer} />
      <main id="main" tabIndex={-1}>
        {fetching && !data ? <Loading /> : failed ? <ErrorMessage error={error} title="Could not load your session" /> : <Page viewer={viewer} />}
      </main>
    </ViewerContext>
  );
}

function Header({ viewer }: { viewer: Viewer | null }) {
  const { location } = useRouter();
  return (
    <header className="app-header">
      <Link to="/" className="brand">
        <span aria-hidden="true">◆</span> Taskmind
      </Link>
      {viewer && (
        <nav aria-label="Main">
          <ul>
            {routes
              .filter((r) => r.nav && (!r.admin || isAdmin(viewer)))
              .map((r) => (
                <li key={r.path}>
                  <Link to={r.path}>{r.title}</Link>
                </li>
              ))}
          </ul>
        </nav>
      )}
      <div className="account">
        {viewer ? (
          <>
            <span className="who" title={viewer.email}>{viewer.name || viewer.email}</span>
            <SignOutButton />
          </>
        ) : (
          location.pathname !== '/signin' && <Link to="/signin" className="button">Sign in</Link>
        )}
      </div>
    </header>
  );
}

function Page({ viewer }: { viewer: Viewer | null }) {
  const { location, navigate } = useRouter();
  const route = routes.find((r) => r.path === location.pathname);
  const needsSignIn = !!route?.auth && !viewer;

  useEffect(() => {
    document.title = route ? `${route.title} · Taskmind` : 'Not found · Taskmind';
  }, [route]);

  // After an in-app navigation, move focus to the new page so screen readers
  // announce it and Tab starts from its top (not on the first load).
  const firstPath = useRef(location.pathname);
  useEffect(() => {
    if (location.pathname === firstPath.current) return;
    firstPath.current = '';
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [location.pathname]);

  useEffect(() => {
    if (needsSignIn) {
      navigate(`/signin?redirect=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    }
  }, [needsSignIn, navigate, location]);

  if (!route) return <NotFound />;
  if (needsSignIn) return <Loading label="Redirecting to sign-in…" />;
  const P = route.page;
  return (
    <Suspense fallback={<Loading />}>
      <P />
    </Suspense>
  );
}

function NotFound() {
  return (
    <section className="page narrow">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <p><Link to="/">Go to the welcome page</Link></p>
    </section>
  );
}
