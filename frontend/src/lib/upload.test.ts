import { describe, expect, it } from 'vitest';
import { multipartBody } from './upload';

describe('multipartBody', () => {
  it('follows the GraphQL multipart request spec', async () => {
    const file = new File([new Uint8Array([1, 2, 3])], 'mnist.onnx');
    const body = multipartBody('mutation U($file: Upload!, $name: String!) { uploadModel(file: $file, name: $name) { id } }', { name: 'mnist' }, { file });
    expect([...body.keys()]).toEqual(['operations', 'map', '0']);
    expect(JSON.parse(body.get('operations') as string)).toEqual({
      query: 'mutation U($file: Upload!, $name: String!) { uploadModel(file: $file, name: $name) { id } }',
      variables: { name: 'mnist', file: null },
    });
    expect(JSON.parse(body.get('map') as string)).toEqual({ '0': ['variables.file'] });
    const sent = body.get('0') as File;
    expect(sent.name).toBe('mnist.onnx');
    expect(new Uint8Array(await sent.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });
});
