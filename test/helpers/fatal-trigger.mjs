// TEST ONLY, never loaded by flr itself: test/e2e/fatal.test.ts starts a real `flr serve` with
// `node --import <this file>`. On SIGUSR2 it makes the failure the audit of issue 13 found no
// real source of any more: a promise rejection nobody handles (FLR_TEST_FATAL=reject) or an
// exception nobody catches (FLR_TEST_FATAL=throw), each with a cause, as lmdb-js's commit
// failure had. Nothing in lib/ knows of it.
process.on('SIGUSR2', () => {
  const cause = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })
  const error = new Error('a failure nobody expected', { cause })
  if (process.env.FLR_TEST_FATAL === 'throw') {
    setImmediate(() => {
      throw error
    })
  } else {
    void Promise.reject(error)
  }
})
