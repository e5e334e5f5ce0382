import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import type { CombinedError } from 'urql';
import { graphql } from '../../gql';
import type { ClassifyDigitMutation } from '../../gql/graphql';
import { DrawingCanvas } from '../../components/DrawingCanvas';
import type { DrawingCanvasHandle } from '../../components/DrawingCanvas';
import { ProbabilityBars } from '../../components/ProbabilityBars';
import { ErrorMessage } from '../../components/Status';
import { alphaToGray, MNIST_SIZE, preprocessDigit } from '../../lib/preprocess';
import { acceptsDigit } from './compatible';

const DigitModelsQuery = graphql(`
  query DigitModels {
    models {
      id
      name
      version
      labels
      inputs {
        name
        shape
      }
    }
  }
`);

const ClassifyDigitMutationDoc = graphql(`
  mutation ClassifyDigit($pixels: [Float!]!, $model: String) {
    classifyDigit(pixels: $pixels, model: $model) {
      digit
      probabilities
      model
      modelVersion
    }
  }
`);

/** THROTTLE_MS spaces out predictions while a stroke is still being drawn. */
const THROTTLE_MS = 250;

export default function Digits() {
  const ids = useId();
  const canvas = useRef<DrawingCanvasHandle>(null);
  const preview = useRef<HTMLCanvasElement>(null);
  const [{ data: modelsData, error: modelsError }] = useQuery({ query: DigitModelsQuery });
  const [, classify] = useMutation(ClassifyDigitMutationDoc);
  const [model, setModel] = useState('');
  const [prediction, setPrediction] = useState<ClassifyDigitMutation['classifyDigit'] | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  const [empty, setEmpty] = useState(true);

  const models = (modelsData?.models ?? []).filter((m) => acceptsDigit(m.inputs));
  const labels = models.find((m) => m.name === model)?.labels;

  // One request at a time: a drawing that changes while a prediction is in
  // flight is sent again when it returns.
  const inFlight = useRef(false);
  const again = useRef(false);
  const lastRun = useRef(0);
  const modelRef = useRef(model);
  useEffect(() => {
    modelRef.current = model;
  }, [model]);

  const predict = useCallback(async () => {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    do {
      again.current = false;
      const img = canvas.current?.imageData();
      if (!img) break;
      const pixels = preprocessDigit(alphaToGray(img.data, img.width, img.height));
      drawPreview(preview.current, pixels);
      if (!pixels.some((v) => v > 0)) break;
      setEmpty(false);
      lastRun.current = Date.now();
      const r = await classify({ pixels: Array.from(pixels), model: modelRef.current || null });
      if (r.error) setError(r.error);
      else if (r.data) {
        setError(null);
        setPrediction(r.data.classifyDigit);
      }
    // again is set by calls made while the request was awaited.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    } while (again.current);
    inFlight.current = false;
  }, [classify]);

  const onDraw = (final: boolean) => {
    if (final || Date.now() - lastRun.current > THROTTLE_MS) void predict();
  };

  const clear = () => {
    canvas.current?.clear();
    drawPreview(preview.current, new Float32Array(MNIST_SIZE * MNIST_SIZE));
    setPrediction(null);
    setError(null);
    setEmpty(true);
  };

  // A different model reads the same drawing again.
  useEffect(() => {
    if (!empty) void predict();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only the model change should trigger this
  }, [model]);

  return (
    <section className="page digits">
      <h1>Digit playground</h1>
      <p className="lead">Draw a digit from 0 to 9 with your mouse, finger or pen. The model reads it as you draw.</p>
      <div className="digits-grid">
        <div className="card">
          <DrawingCanvas ref={canvas} label="Drawing area: draw one digit here with a mouse, finger or pen" onDraw={onDraw} />
          <div className="row">
            <button type="button" className="secondary" onClick={clear}>Clear</button>
            <div className="field inline">
              <label htmlFor={`${ids}-model`}>Model</label>
              <select id={`${ids}-model`} value={model} onChange={(e) => { setModel(e.target.value); }}>
                <option value="">Default model</option>
                {models.map((m) => (
                  <option key={m.id} value={m.name}>
                    {m.name} (v{m.version})
                  </option>
                ))}
              </select>
            </div>
          </div>
          {modelsError && <ErrorMessage error={modelsError} title="Could not load the model list" />}
        </div>
        <div className="card result" aria-live="polite">
          <h2>Prediction</h2>
          {error && <ErrorMessage error={error} title="Prediction failed" />}
          {prediction ? (
            <>
              <p className="big-digit" data-testid="predicted-digit">
                <span className="visually-hidden">The model reads </span>
                {labels?.[prediction.digit] ?? prediction.digit}
              </p>
              <p className="muted">
                {prediction.model} v{prediction.modelVersion}
              </p>
              <ProbabilityBars probabilities={prediction.probabilities} labels={labels} highlight={prediction.digit} />
            </>
          ) : (
            !error && <p className="status empty">{empty ? 'Draw a digit to see what the model reads.' : 'Reading…'}</p>
          )}
          <figure className="preview">
            <canvas ref={preview} width={MNIST_SIZE} height={MNIST_SIZE} aria-hidden="true" />
            <figcaption>What the model sees: 28×28, centred by mass</figcaption>
          </figure>
        </div>
      </div>
    </section>
  );
}

function drawPreview(c: HTMLCanvasElement | null, pixels: Float32Array) {
  const ctx = c?.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(MNIST_SIZE, MNIST_SIZE);
  pixels.forEach((v, i) => {
    const g = Math.round(255 * (1 - v));
    img.data.set([g, g, g, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
}
