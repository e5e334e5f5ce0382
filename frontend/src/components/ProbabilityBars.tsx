interface Props {
  probabilities: readonly number[];
  labels?: readonly string[] | null;
  highlight?: number;
}

/** ProbabilityBars shows one labelled bar per class; screen readers get the numbers. */
export function ProbabilityBars({ probabilities, labels, highlight }: Props) {
  return (
    <ol className="bars" aria-label="Probability of each digit">
      {probabilities.map((p, i) => {
        const label = labels?.[i] ?? String(i);
        const pct = Math.max(0, Math.min(1, p)) * 100;
        return (
          <li key={i} className={i === highlight ? 'top' : undefined}>
            <span className="bar-label">{label}</span>
            <span className="bar-track" aria-hidden="true">
              <span className="bar-fill" style={{ width: `${pct}%` }} />
            </span>
            <span className="bar-value">{pct.toFixed(1)}%</span>
          </li>
        );
      })}
    </ol>
  );
}
