import { Link } from '../../lib/router';
import { useViewer } from '../../lib/viewer';

export default function Welcome() {
  const viewer = useViewer();
  return (
    <section className="page welcome">
      <h1>Welcome to Taskmind</h1>
      <p className="lead">
        Taskmind keeps your team's tasks and runs deep-learning models, in one small server you can run anywhere.
      </p>
      <ul className="features">
        <li>
          <h2>Tasks, live</h2>
          <p>Plan, filter and finish tasks; changes made by others appear as they happen.</p>
        </li>
        <li>
          <h2>Inference built in</h2>
          <p>Draw a digit and watch a neural network read it, or upload your own ONNX model.</p>
        </li>
        <li>
          <h2>An open API</h2>
          <p>Everything the app does goes through GraphQL; explore it in the playground with API tokens for scripts.</p>
        </li>
      </ul>
      {viewer ? (
        <p>
          Signed in as <strong>{viewer.name || viewer.email}</strong>. <Link to="/board" className="button">Open your tasks</Link>
        </p>
      ) : (
        <p>
          <Link to="/signin" className="button primary">Sign in</Link>
        </p>
      )}
    </section>
  );
}
