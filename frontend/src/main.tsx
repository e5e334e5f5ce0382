import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'urql';
import App from './App';
import { RouterProvider } from './lib/router';
import { newClient } from './lib/client';
import './styles.css';

function Root() {
  const [client] = useState(newClient);
  return (
    <Provider value={client}>
      <RouterProvider>
        <App />
      </RouterProvider>
    </Provider>
  );
}

const el = document.getElementById('root');
if (!el) throw new Error('index.html has no #root element');
createRoot(el).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
