import { useEffect, useState } from 'react';

/** useDebounced returns value once it has stopped changing for delay ms. */
export function useDebounced<T>(value: T, delay: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => {
      setV(value);
    }, delay);
    return () => {
      clearTimeout(t);
    };
  }, [value, delay]);
  return v;
}
