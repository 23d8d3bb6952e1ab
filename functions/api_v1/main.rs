//! Lambda function: the api_v1 endpoint group behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    polyauth::lambda::run(polyauth::lambda::Function::API_V1).await
}
