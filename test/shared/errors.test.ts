import { InvalidValueError, integerOption } from '../../shared/errors';

describe('integerOption', () => {
  it('returns an integer within its bounds, the bounds included', () => {
    expect(integerOption('concurrency', 1, 1)).toBe(1);
    expect(integerOption('maxRetries', 0, 0, 10)).toBe(0);
    expect(integerOption('maxRetries', 10, 0, 10)).toBe(10);
  });

  it.each([
    ['concurrency', 0, 1, undefined, 'concurrency: concurrency must be a positive integer, got 0'],
    ['concurrency', 2.5, 1, undefined, 'concurrency: concurrency must be a positive integer, got 2.5'],
    [
      'maxBodyBytes',
      1023,
      1024,
      undefined,
      'maxBodyBytes: maxBodyBytes must be an integer of at least 1024, got 1023',
    ],
    ['maxRetries', 11, 0, 10, 'maxRetries: maxRetries must be an integer from 0 to 10, got 11'],
    ['maxRetries', Number.NaN, 0, 10, 'maxRetries: maxRetries must be an integer from 0 to 10, got NaN'],
  ])('refuses %s = %s, naming the option and its bounds', (field, value, min, max, message) => {
    // Act
    const attempt = () => integerOption(field, value, min, max);

    // Assess
    expect(attempt).toThrow(InvalidValueError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as InvalidValueError).field).toBe(field);
    }
  });
});
