import { useId, useRef, useState } from 'react';
import type { SyntheticEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { ModelsPageQuery } from '../../gql/graphql';
import { Dialog } from '../../components/Dialog';
import { Empty, ErrorMessage, Loading } from '../../components/Status';
import { uploadGraphQL } from '../../lib/upload';
import type { AppError } from '../../lib/errors';
import { isAdmin, useViewer } from '../../lib/viewer';
import { formatBytes } from './format';

const ModelsPageQueryDoc = graphql(`
  query ModelsPage {
    models {
      id
      name
      version
      description
      builtin
      inputs {
        name
        shape
        dtype
      }
      outputs {
        name
        shape
        dtype
      }
      labels
      operators
      engine {
        backend
        kernels
        anyBatch
      }
      sha256
      sizeBytes
      parameters
      createdAt
      uploadedBy {
        id
        name
        email
      }
    }
  }
`);

export const UploadModelMutation = graphql(`
  mutation UploadModel($file: Upload!, $name: String!, $description: String, $labels: [String!]) {
    uploadModel(file: $file, name: $name, description: $description, labels: $labels) {
      id
      name
      version
    }
  }
`);

const DeleteModelMutation = graphql(`
  mutation DeleteModel($name: String!) {
    deleteModel(name: $name)
  }
`);

type Model = ModelsPageQuery['models'][number];

const modelContext = { additionalTypenames: ['Model'] };

export default function Models() {
  const viewer = useViewer();
  const admin = isAdmin(viewer);
  const [{ data, error }, reexecute] = useQuery({ query: ModelsPageQueryDoc, context: modelContext });
  const [del, deleteModel] = useMutation(DeleteModelMutation);
  const [confirm, setConfirm] = useState<Model | null>(null);

  const doDelete = async (m: Model) => {
    setConfirm(null);
    await deleteModel({ name: m.name }, modelContext);
  };

  return (
    <section className="page models">
      <h1>Models</h1>
      <p className="lead">The neural networks this server can run, with their input and output specifications.</p>
      {admin && (
        <UploadForm
          onUploaded={() => {
            reexecute({ requestPolicy: 'network-only' });
          }}
        />
      )}
      {del.error && <ErrorMessage error={del.error} title="Could not delete the model" />}
      {error && !data ? (
        <ErrorMessage error={error} title="Could not load models" />
      ) : !data ? (
        <Loading label="Loading models…" />
      ) : data.models.length === 0 ? (
        <Empty>No models are installed yet.{admin ? ' Upload an ONNX model above.' : ''}</Empty>
      ) : (
        <ul className="model-list">
          {data.models.map((m) => (
            <ModelCard key={m.id} model={m} onDelete={admin && !m.builtin ? () => { setConfirm(m); } : undefined} />
          ))}
        </ul>
      )}
      {confirm && (
        <Dialog
          title={`Delete ${confirm.name}?`}
          onClose={() => { setConfirm(null); }}
          actions={
            <>
              <button type="button" className="secondary" onClick={() => { setConfirm(null); }}>Cancel</button>
              <button type="button" className="danger" onClick={() => void doDelete(confirm)}>Delete model</button>
            </>
          }
        >
          <p>
            Every version of {confirm.name} will be removed from the server. Predictions made with it stay in the history.
          </p>
        </Dialog>
      )}
    </section>
  );
}

export function ModelCard({ model: m, onDelete }: { model: Model; onDelete?: () => void }) {
  const headingId = useId();
  return (
    <li className="card model" aria-labelledby={headingId}>
      <div className="model-head">
        <h2 id={headingId}>
          {m.name} <span className="muted">v{m.version}</span>
        </h2>
        <span className="badge">{m.builtin ? 'built-in' : 'uploaded'}</span>
      </div>
      {m.description && <p>{m.description}</p>}
      <dl className="meta">
        <dt>Size</dt>
        <dd>{formatBytes(m.sizeBytes)}, {m.parameters.toLocaleString()} parameters</dd>
        <dt>Added</dt>
        <dd>
          <time dateTime={m.createdAt}>{new Date(m.createdAt).toLocaleString()}</time>
          {m.uploadedBy && ` by ${m.uploadedBy.name || m.uploadedBy.email}`}
        </dd>
        <dt>SHA-256</dt>
        <dd><code className="hash">{m.sha256}</code></dd>
        {m.labels && m.labels.length > 0 && (
          <>
            <dt>Labels</dt>
            <dd>{m.labels.join(', ')}</dd>
          </>
        )}
        {m.engine && (
          <>
            <dt>Engine</dt>
            <dd>{engineText(m.engine)}</dd>
          </>
        )}
        {m.operators && m.operators.length > 0 && (
          <>
            <dt>Operators</dt>
            <dd>{m.operators.join(', ')}</dd>
          </>
        )}
      </dl>
      <div className="specs">
        <SpecTable caption="Inputs" specs={m.inputs} />
        <SpecTable caption="Outputs" specs={m.outputs} />
      </div>
      {onDelete && (
        <button type="button" className="danger small" onClick={onDelete} aria-label={`Delete model ${m.name}`}>
          Delete
        </button>
      )}
    </li>
  );
}

function SpecTable({ caption, specs }: { caption: string; specs: Model['inputs'] }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Shape</th>
          <th scope="col">Type</th>
        </tr>
      </thead>
      <tbody>
        {specs.map((s) => (
          <tr key={s.name}>
            <td><code>{s.name}</code></td>
            <td><code>[{s.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]</code></td>
            <td>{s.dtype}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function UploadForm({ onUploaded }: { onUploaded: () => void }) {
  const ids = useId();
  const form = useRef<HTMLFormElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [labels, setLabels] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [errors, setErrors] = useState<AppError[] | null>(null);
  const [done, setDone] = useState('');

  const submit = async (e: SyntheticEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!file || !name.trim()) return;
    setErrors(null);
    setDone('');
    setProgress(0);
    const r = await uploadGraphQL(
      UploadModelMutation,
      {
        name: name.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(labels.trim() ? { labels: labels.split(',').map((l) => l.trim()) } : {}),
      },
      { file },
      setProgress,
    );
    setProgress(null);
    if (r.errors?.length) {
      setErrors(r.errors);
      return;
    }
    const m = r.data?.uploadModel;
    setDone(m ? `Uploaded ${m.name} v${m.version}.` : 'Uploaded.');
    setFile(null);
    setName('');
    setDescription('');
    setLabels('');
    form.current?.reset();
    onUploaded();
  };

  return (
    <form ref={form} className="card upload" onSubmit={submit} aria-labelledby={`${ids}-h`}>
      <h2 id={`${ids}-h`}>Upload a model</h2>
      <div className="field">
        <label htmlFor={`${ids}-file`}>ONNX file</label>
        <input
          id={`${ids}-file`}
          type="file"
          accept=".onnx,application/octet-stream"
          required
          onChange={(e) => {
            const f = e.target.files?.[0] ?? null;
            setFile(f);
            if (f && !name) setName(f.name.replace(/\.onnx$/i, ''));
          }}
        />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-name`}>Name</label>
        <input id={`${ids}-name`} value={name} required maxLength={100} onChange={(e) => { setName(e.target.value); }} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-desc`}>Description</label>
        <input id={`${ids}-desc`} value={description} maxLength={1000} onChange={(e) => { setDescription(e.target.value); }} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-labels`}>Class labels (optional, comma-separated)</label>
        <input id={`${ids}-labels`} value={labels} placeholder="cat, dog, bird" onChange={(e) => { setLabels(e.target.value); }} />
      </div>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={progress !== null || !file || !name.trim()}>
          Upload
        </button>
        {progress !== null && (
          <>
            <label htmlFor={`${ids}-progress`} className="visually-hidden">Upload progress</label>
            <progress id={`${ids}-progress`} max={1} value={progress} />
            <span aria-hidden="true">{Math.round(progress * 100)}%</span>
          </>
        )}
      </div>
      {errors && <ErrorMessage error={errors.map((e) => e.message).join(' ')} title="Upload failed" />}
      {done && <p role="status" className="success">{done}</p>}
    </form>
  );
}

/** engineText says how the answering server computes a model, e.g. "compiled (avx512), any batch size". */
function engineText(e: { backend: string; kernels?: string | null; anyBatch: boolean }): string {
  const name = e.kernels ? `${e.backend} (${e.kernels})` : e.backend;
  return e.anyBatch ? `${name}, any batch size` : `${name}, declared batch size only`;
}
