//! Lambda function: the pauli endpoint group behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    polyauth::lambda::run(polyauth::lambda::Function::PAULI).await
}
